-- The demo's shop database: what an app's production database looks like, with
-- personal data (customers), an enum, a view, a function and comments for the
-- schema browsers, and a table larger than the people policy's row cap.
CREATE TYPE order_status AS ENUM ('open', 'paid', 'shipped', 'cancelled');

CREATE TABLE customers (
  id            bigserial PRIMARY KEY,
  email         text NOT NULL UNIQUE,
  name          text NOT NULL,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE customers IS 'People who buy; email and password_hash are personal data';

CREATE TABLE products (
  id    serial PRIMARY KEY,
  sku   text NOT NULL UNIQUE,
  name  text NOT NULL,
  price numeric(10,2) NOT NULL CHECK (price >= 0),
  stock integer NOT NULL DEFAULT 0
);

CREATE TABLE orders (
  id          bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers,
  status      order_status NOT NULL DEFAULT 'open',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

CREATE TABLE order_items (
  order_id   bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
  product_id integer NOT NULL REFERENCES products,
  quantity   integer NOT NULL CHECK (quantity > 0),
  unit_price numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

CREATE VIEW order_totals AS
  SELECT o.id AS order_id, o.customer_id, o.status, sum(i.quantity * i.unit_price) AS total
  FROM orders o JOIN order_items i ON i.order_id = o.id
  GROUP BY o.id;

CREATE FUNCTION customer_lifetime_value(customer bigint) RETURNS numeric
  LANGUAGE sql STABLE
  AS $$ SELECT coalesce(sum(total), 0) FROM order_totals WHERE customer_id = customer $$;

-- Deterministic data, so the tour and the tests can name what they will see.
INSERT INTO customers (email, name, password_hash, created_at)
  SELECT lower(f) || '.' || lower(l) || g || '@example.com', f || ' ' || l,
         'scrypt$' || md5('salt' || g), timestamptz '2024-01-01' + g * interval '7 hours'
  FROM generate_series(1, 1000) g,
       LATERAL (SELECT (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken','Radia','Tim'])[1 + g % 10] AS f,
                       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen'])[1 + g % 7] AS l) n;
INSERT INTO products (sku, name, price, stock)
  SELECT 'SKU-' || lpad(g::text, 4, '0'),
         (ARRAY['Tea','Coffee','Mug','Kettle','Grinder'])[1 + g % 5] || ' no. ' || g,
         round((3 + (g * 37 % 200))::numeric + 0.99, 2), g * 13 % 90
  FROM generate_series(1, 200) g;
INSERT INTO orders (customer_id, status, created_at)
  SELECT 1 + g % 1000, (ARRAY['open','paid','shipped','cancelled']::order_status[])[1 + g % 4],
         timestamptz '2024-06-01' + g * interval '1 hour'
  FROM generate_series(1, 5000) g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
  SELECT o, p.id, 1 + (o + k) % 4, p.price
  FROM generate_series(1, 5000) o CROSS JOIN generate_series(1, 3) k
  JOIN products p ON p.id = 1 + (o * 7 + k * 61) % 200;
ANALYZE;
