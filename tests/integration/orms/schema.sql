-- The customers-and-orders schema every ORM app of the matrix runs against, with
-- the rows its flows expect. test_orms.py creates it in a template database as
-- the role pgmoat logs in as; each (stack, mode) run gets a fresh copy.
CREATE TABLE customers (
  id          serial PRIMARY KEY,
  email       text NOT NULL UNIQUE,
  name        text NOT NULL,
  country     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz                          -- soft delete: NULL while the customer is live
);

CREATE TABLE products (
  id          serial PRIMARY KEY,
  sku         text NOT NULL UNIQUE,                -- the key upserts conflict on
  name        text NOT NULL,
  price       numeric(10,2) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id          serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers(id),
  status      text NOT NULL DEFAULT 'open',
  total       numeric(10,2) NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
  id          serial PRIMARY KEY,
  order_id    integer NOT NULL REFERENCES orders(id),
  product_id  integer NOT NULL REFERENCES products(id),
  quantity    integer NOT NULL CHECK (quantity > 0),
  unit_price  numeric(10,2) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_items_order_id ON order_items (order_id);

-- 30 customers in three countries, one of them already soft-deleted.
INSERT INTO customers (email, name, country, created_at, updated_at, deleted_at)
SELECT 'customer' || i || '@example.com',
       (ARRAY['Ann', 'Bob', 'Cleo', 'Dan', 'Eve', 'Finn'])[1 + i % 6] || ' ' || (ARRAY['Smith', 'Jones', 'Annan'])[1 + i % 3],
       (ARRAY['DE', 'FR', 'US'])[1 + i % 3],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 day',
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 day',
       CASE WHEN i = 30 THEN timestamptz '2024-06-01 00:00:00+00' END
FROM generate_series(1, 30) AS i;

INSERT INTO products (sku, name, price)
SELECT 'SKU-' || lpad(i::text, 3, '0'), 'Product ' || i, 5 * i + 0.99
FROM generate_series(1, 10) AS i;

-- Two orders per customer, two items each.
INSERT INTO orders (customer_id, status, total, created_at, updated_at)
SELECT c, (ARRAY['open', 'paid', 'shipped'])[1 + (c + o) % 3], 0,
       timestamptz '2024-02-01 00:00:00+00' + (c * 2 + o) * interval '1 hour',
       timestamptz '2024-02-01 00:00:00+00' + (c * 2 + o) * interval '1 hour'
FROM generate_series(1, 30) AS c, generate_series(0, 1) AS o;

INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT o.id, p, 1 + (o.id + p) % 3, pr.price
FROM orders o, generate_series(1, 2) AS k, LATERAL (SELECT 1 + (o.id * 3 + k) % 10 AS p) AS pick
JOIN products pr ON pr.id = pick.p;

UPDATE orders o SET total = s.total
FROM (SELECT order_id, sum(quantity * unit_price) AS total FROM order_items GROUP BY order_id) AS s
WHERE s.order_id = o.id;
