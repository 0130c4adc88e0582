"""What the shipped baseline rejects today in the ORM matrix (test_orms.py): per
(stack, flow), the rule and the normalized text of the first statement it rejects.
Written from a real run by PGMOAT_ORMS_UPDATE=1 (see README.md here); when a fix
makes a flow pass, its strict xfail fails: delete its entry or regenerate."""
KNOWN_REJECTIONS = {
    ('sequelize', 'filter_paginate'):
        ('parameters', 'SELECT "id" FROM "customers" AS "Customer" WHERE ("Customer"."deleted_at" IS NULL AND "Customer"."country" = $1) ORDER BY "Customer"."created_at" DESC, "Customer"."id" ASC LIMIT $2 OFFSET $3'),
    ('sequelize', 'get_by_id'):
        ('parameters', 'SELECT "id", "email", "name", "country", "created_at" AS "createdAt", "updated_at" AS "updatedAt", "deleted_at" AS "deletedAt" FROM "customers" AS "Customer" WHERE ("Customer"."deleted_at" IS NULL AND "Customer"."id" = $1)'),
    ('sequelize', 'search'):
        ('parameters', 'SELECT "id" FROM "customers" AS "Customer" WHERE ("Customer"."deleted_at" IS NULL AND "Customer"."name" ILIKE $1) ORDER BY "Customer"."id" ASC'),
    ('sequelize', 'join'):
        ('parameters', 'SELECT "Order"."id", "Order"."status", "Order"."total", "Order"."created_at" AS "createdAt", "Order"."updated_at" AS "updatedAt", "Order"."customer_id" AS "customerId", "items"."id" AS "items.id", "items"."quantity" AS "items.quantity", "items"."unit_price" AS "items.unitPrice", "items"."created_at" AS "items.createdAt", "items"."updated_at" AS "items.updatedAt", "items"."order_id" AS "items.orderId", "items"."product_id" AS "items.productId", "items->Product"."id" AS "items.Product.id", "items->Product"."sku" AS "items.Product.sku", "items->Product"."name" AS "items.Product.name", "items->Product"."price" AS "items.Product.price", "items->Product"."created_at" AS "items.Product.createdAt", "items->Product"."updated_at" AS "items.Product.updatedAt" FROM "orders" AS "Order" LEFT OUTER JOIN "order_items" AS "items" ON "Order"."id" = "items"."order_id" LEFT OUTER JOIN "products" AS "items->Product" ON "items"."product_id" = "items->Product"."id" WHERE "Order"."customer_id" = $1 ORDER BY "Order"."id" ASC, "items"."id" ASC'),
    ('sequelize', 'update'):
        ('parameters', 'SELECT "id", "email", "name", "country", "created_at" AS "createdAt", "updated_at" AS "updatedAt", "deleted_at" AS "deletedAt" FROM "customers" AS "Customer" WHERE ("Customer"."deleted_at" IS NULL AND "Customer"."id" = $1)'),
    ('sequelize', 'soft_delete'):
        ('parameters', 'SELECT "id", "email", "name", "country", "created_at" AS "createdAt", "updated_at" AS "updatedAt", "deleted_at" AS "deletedAt" FROM "customers" AS "Customer" WHERE ("Customer"."deleted_at" IS NULL AND "Customer"."id" = $1)'),
    ('sequelize', 'transaction'):
        ('parameters', 'SELECT "id", "sku", "name", "price", "created_at" AS "createdAt", "updated_at" AS "updatedAt" FROM "products" AS "Product" WHERE "Product"."id" IN ($1, $2)'),
    ('sequelize', 'upsert'):
        ('parameters', 'SELECT "id", "sku", "name", "price", "created_at" AS "createdAt", "updated_at" AS "updatedAt" FROM "products" AS "Product" WHERE "Product"."sku" = $1'),
    ('sqlalchemy-psycopg2', 'filter_paginate'):
        ('parameters', 'SELECT customers.id \nFROM customers \nWHERE customers.deleted_at IS NULL AND customers.country = $1 ORDER BY customers.created_at DESC, customers.id \n LIMIT $2 OFFSET $3'),
    ('sqlalchemy-psycopg2', 'get_by_id'):
        ('parameters', 'SELECT customers.id AS customers_id, customers.email AS customers_email, customers.name AS customers_name, customers.country AS customers_country, customers.created_at AS customers_created_at, customers.updated_at AS customers_updated_at, customers.deleted_at AS customers_deleted_at \nFROM customers \nWHERE customers.id = $1'),
    ('sqlalchemy-psycopg2', 'search'):
        ('parameters', 'SELECT customers.id \nFROM customers \nWHERE customers.deleted_at IS NULL AND customers.name ILIKE $1 ORDER BY customers.id'),
    ('sqlalchemy-psycopg2', 'join'):
        ('parameters', 'SELECT orders.id, orders.customer_id, orders.status, orders.total, orders.created_at, orders.updated_at \nFROM orders \nWHERE orders.customer_id = $1 ORDER BY orders.id'),
    ('sqlalchemy-psycopg2', 'create'):
        ('parameters', 'INSERT INTO customers (email, name, country, deleted_at) VALUES ($1, $2, $3, NULL) RETURNING customers.id'),
    ('sqlalchemy-psycopg2', 'update'):
        ('parameters', 'SELECT customers.id AS customers_id, customers.email AS customers_email, customers.name AS customers_name, customers.country AS customers_country, customers.created_at AS customers_created_at, customers.updated_at AS customers_updated_at, customers.deleted_at AS customers_deleted_at \nFROM customers \nWHERE customers.id = $1'),
    ('sqlalchemy-psycopg2', 'soft_delete'):
        ('parameters', 'UPDATE customers SET updated_at=now(), deleted_at=now() WHERE customers.id = $1'),
    ('sqlalchemy-psycopg2', 'transaction'):
        ('parameters', 'SELECT products.id, products.sku, products.name, products.price, products.created_at, products.updated_at \nFROM products \nWHERE products.id IN ($1, $2)'),
    ('sqlalchemy-psycopg2', 'upsert'):
        ('parameters', 'INSERT INTO products (sku, name, price) VALUES ($1, $2, $3) ON CONFLICT (sku) DO UPDATE SET name = $4, price = $5, updated_at = now() RETURNING products.name, products.price'),
    ('django-psycopg2', 'filter_paginate'):
        ('parameters', 'SELECT "customers"."id" FROM "customers" WHERE ("customers"."country" = $1 AND "customers"."deleted_at" IS NULL) ORDER BY "customers"."created_at" DESC, "customers"."id" ASC LIMIT $2 OFFSET $3'),
    ('django-psycopg2', 'get_by_id'):
        ('parameters', 'SELECT "customers"."id", "customers"."email", "customers"."name", "customers"."country", "customers"."created_at", "customers"."updated_at", "customers"."deleted_at" FROM "customers" WHERE "customers"."id" = $1 LIMIT $2'),
    ('django-psycopg2', 'search'):
        ('parameters', 'SELECT "customers"."id" FROM "customers" WHERE ("customers"."deleted_at" IS NULL AND UPPER("customers"."name"::text) LIKE UPPER($1)) ORDER BY "customers"."id" ASC'),
    ('django-psycopg2', 'join'):
        ('parameters', 'SELECT "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total", "orders"."created_at", "orders"."updated_at" FROM "orders" WHERE "orders"."customer_id" = $1 ORDER BY "orders"."id" ASC'),
    ('django-psycopg2', 'create'):
        ('parameters', 'INSERT INTO "customers" ("email", "name", "country", "created_at", "updated_at", "deleted_at") VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, NULL) RETURNING "customers"."id"'),
    ('django-psycopg2', 'update'):
        ('parameters', 'SELECT "customers"."id", "customers"."email", "customers"."name", "customers"."country", "customers"."created_at", "customers"."updated_at", "customers"."deleted_at" FROM "customers" WHERE "customers"."id" = $1 LIMIT $2'),
    ('django-psycopg2', 'soft_delete'):
        ('parameters', 'UPDATE "customers" SET "deleted_at" = STATEMENT_TIMESTAMP() WHERE "customers"."id" = $1'),
    ('django-psycopg2', 'transaction'):
        ('parameters', 'SELECT "products"."id", "products"."sku", "products"."name", "products"."price", "products"."created_at", "products"."updated_at" FROM "products" WHERE "products"."id" IN ($1, $2)'),
    ('django-psycopg2', 'upsert'):
        ('parameters', 'SELECT "products"."id", "products"."sku", "products"."name", "products"."price", "products"."created_at", "products"."updated_at" FROM "products" WHERE "products"."sku" = $1 LIMIT $2 FOR UPDATE'),
    ('activerecord', 'search'):
        ('parameters', 'SELECT "customers"."id" FROM "customers" WHERE "customers"."deleted_at" IS NULL AND (name ILIKE $1) ORDER BY "customers"."id" ASC'),
    ('activerecord', 'upsert'):
        ('parameters', 'INSERT INTO "products" ("sku","name","price") VALUES ($1, $2, $3) ON CONFLICT ("sku") DO UPDATE SET updated_at=(CASE WHEN ("products"."name" IS NOT DISTINCT FROM excluded."name" AND "products"."price" IS NOT DISTINCT FROM excluded."price") THEN "products".updated_at ELSE CURRENT_TIMESTAMP END),"name"=excluded."name","price"=excluded."price" RETURNING "id"'),
}
