-- The schema the false-positive corpus (false_positives.toml) runs against: the
-- tables, types and seed rows its statements name, in the shapes the ORMs and
-- drivers there create them. tests/integration/test_policy_corpus.py loads it
-- directly on the server (not through pgmoat) as the role pgmoat logs in as.

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
CREATE TYPE address AS (street text, city text, zip text);

CREATE TABLE organizations (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    slug text NOT NULL UNIQUE,
    plan text NOT NULL DEFAULT 'free',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id bigserial PRIMARY KEY,
    organization_id bigint REFERENCES organizations (id),
    email text NOT NULL UNIQUE,
    name text,
    password_hash text,
    role text NOT NULL DEFAULT 'member',
    active boolean NOT NULL DEFAULT true,
    settings jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    login_count integer NOT NULL DEFAULT 0,
    last_login_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE TABLE categories (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    parent_id bigint REFERENCES categories (id)
);

CREATE TABLE products (
    id bigserial PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    description text,
    price numeric(10, 2) NOT NULL,
    stock integer NOT NULL DEFAULT 0,
    category_id bigint REFERENCES categories (id),
    attributes jsonb NOT NULL DEFAULT '{}',
    search tsvector GENERATED ALWAYS AS (to_tsvector('english', name || ' ' || coalesce(description, ''))) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    status order_status NOT NULL DEFAULT 'pending',
    total numeric(12, 2) NOT NULL DEFAULT 0,
    currency char(3) NOT NULL DEFAULT 'USD',
    shipping_address address,
    metadata jsonb NOT NULL DEFAULT '{}',
    placed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL
);

CREATE TABLE carts (
    user_id bigint NOT NULL REFERENCES users (id),
    product_id bigint NOT NULL REFERENCES products (id),
    quantity integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, product_id)
);

CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    balance numeric(14, 2) NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 0
);

CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES users (id),
    title text NOT NULL,
    slug text UNIQUE,
    body text NOT NULL DEFAULT '',
    published boolean NOT NULL DEFAULT false,
    published_at timestamptz,
    view_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE comments (
    id bigserial PRIMARY KEY,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id),
    parent_id bigint REFERENCES comments (id),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tags (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE post_tags (
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id bigint NOT NULL REFERENCES tags (id),
    PRIMARY KEY (post_id, tag_id)
);

CREATE TABLE sessions (
    id text PRIMARY KEY,
    user_id bigint REFERENCES users (id),
    data jsonb NOT NULL DEFAULT '{}',
    expires_at timestamptz NOT NULL
);

CREATE TABLE jobs (
    id bigserial PRIMARY KEY,
    queue text NOT NULL DEFAULT 'default',
    payload jsonb NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'available',
    priority integer NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    run_at timestamptz NOT NULL DEFAULT now(),
    locked_by text,
    locked_at timestamptz,
    finished_at timestamptz,
    errors jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    user_id bigint,
    action text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    ip inet,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    during tstzrange,
    capacity integer
);

CREATE TABLE documents (
    id uuid PRIMARY KEY,
    owner_id bigint REFERENCES users (id),
    title text NOT NULL,
    content bytea,
    doc jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Rails
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
CREATE TABLE ar_internal_metadata (
    key varchar PRIMARY KEY,
    value varchar,
    created_at timestamp(6) NOT NULL,
    updated_at timestamp(6) NOT NULL
);

-- Django
CREATE TABLE django_migrations (
    id bigserial PRIMARY KEY,
    app varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    applied timestamptz NOT NULL
);
CREATE TABLE django_session (
    session_key varchar(40) PRIMARY KEY,
    session_data text NOT NULL,
    expire_date timestamptz NOT NULL
);
CREATE TABLE auth_user (
    id serial PRIMARY KEY,
    password varchar(128) NOT NULL,
    last_login timestamptz,
    is_superuser boolean NOT NULL DEFAULT false,
    username varchar(150) NOT NULL UNIQUE,
    first_name varchar(150) NOT NULL DEFAULT '',
    last_name varchar(150) NOT NULL DEFAULT '',
    email varchar(254) NOT NULL DEFAULT '',
    is_staff boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    date_joined timestamptz NOT NULL DEFAULT now()
);

-- Prisma (quoted, camel-cased names)
CREATE TABLE "User" (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text,
    "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE "Post" (
    id serial PRIMARY KEY,
    title text NOT NULL,
    content text,
    published boolean NOT NULL DEFAULT false,
    "authorId" integer REFERENCES "User" (id)
);
CREATE TABLE _prisma_migrations (
    id varchar(36) PRIMARY KEY,
    checksum varchar(64) NOT NULL,
    finished_at timestamptz,
    migration_name varchar(255) NOT NULL,
    logs text,
    rolled_back_at timestamptz,
    started_at timestamptz NOT NULL DEFAULT now(),
    applied_steps_count integer NOT NULL DEFAULT 0
);

-- Sequelize, knex, TypeORM
CREATE TABLE "SequelizeMeta" (name varchar(255) PRIMARY KEY);
CREATE TABLE knex_migrations (
    id serial PRIMARY KEY,
    name varchar(255),
    batch integer,
    migration_time timestamptz
);
CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked integer);
CREATE TABLE migrations (id serial PRIMARY KEY, "timestamp" bigint NOT NULL, name varchar NOT NULL);

-- Hibernate's sequence-per-entity generator
CREATE SEQUENCE orders_seq INCREMENT BY 50;

-- Seed rows the statements with parameters refer to (ids 1 and 2).
INSERT INTO organizations (name, slug) VALUES ('Acme', 'acme'), ('Globex', 'globex');
INSERT INTO users (organization_id, email, name, password_hash, role, tags)
VALUES (1, 'alice@example.com', 'Alice', 'x', 'admin', '{staff,beta}'),
       (1, 'bob@example.com', 'Bob', 'x', 'member', '{}');
INSERT INTO categories (name) VALUES ('Books'), ('Games');
INSERT INTO products (sku, name, description, price, stock, category_id, attributes)
VALUES ('BK-1', 'PostgreSQL Internals', 'A book', 39.90, 10, 1, '{"color": "blue", "pages": 400}'),
       ('GM-1', 'Chess', 'A game', 19.50, 3, 2, '{"color": "black"}');
INSERT INTO orders (user_id, status, total) VALUES (1, 'paid', 59.40), (2, 'pending', 19.50);
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES (1, 1, 1, 39.90), (1, 2, 1, 19.50), (2, 2, 1, 19.50);
INSERT INTO accounts (user_id, balance) VALUES (1, 100), (2, 50);
INSERT INTO posts (author_id, title, slug, body, published, published_at)
VALUES (1, 'Hello', 'hello', 'First post', true, now()), (2, 'Draft', 'draft', 'Not yet', false, NULL);
INSERT INTO comments (post_id, user_id, body) VALUES (1, 2, 'Nice');
INSERT INTO tags (name) VALUES ('postgres'), ('security');
INSERT INTO post_tags VALUES (1, 1), (1, 2);
INSERT INTO jobs (queue, payload) VALUES ('default', '{"task": "email"}'), ('default', '{"task": "report"}');
INSERT INTO events (name, during, capacity) VALUES ('Meetup', tstzrange(now(), now() + interval '2 hours'), 30);
INSERT INTO documents (id, owner_id, title, doc)
VALUES ('6f1c2f5e-8a8b-4c7e-9d0a-0a1b2c3d4e5f', 1, 'Spec', '{"status": "draft", "tags": ["a"]}');
INSERT INTO "User" (email, name) VALUES ('carol@example.com', 'Carol');
INSERT INTO "Post" (title, content, published, "authorId") VALUES ('Prisma', 'Hi', true, 1);
INSERT INTO schema_migrations VALUES ('20240101000000');
INSERT INTO ar_internal_metadata VALUES ('environment', 'production', now(), now());
