"""What the shipped baseline rejects today in the ORM matrix (test_orms.py): per
(stack, flow), the rule and the normalized text of the first statement it rejects.
Written from a real run by PGMOAT_ORMS_UPDATE=1 (see README.md here); when a fix
makes a flow pass, its strict xfail fails: delete its entry or regenerate."""
KNOWN_REJECTIONS = {
    ('prisma', 'get_by_id'):
        ('tautology', 'SELECT "public"."customers"."id", "public"."customers"."email", "public"."customers"."name", "public"."customers"."country", "public"."customers"."created_at", "public"."customers"."updated_at", "public"."customers"."deleted_at" FROM "public"."customers" WHERE ("public"."customers"."id" = $1 AND $4=$5) LIMIT $2 OFFSET $3'),
    ('prisma', 'search'):
        ('parameters', 'SELECT "public"."customers"."id" FROM "public"."customers" WHERE ("public"."customers"."deleted_at" IS NULL AND "public"."customers"."name" ILIKE ($3 || $1 || $4)) ORDER BY "public"."customers"."id" ASC OFFSET $2'),
    ('prisma', 'aggregate'):
        ('tautology', 'SELECT COUNT(*) AS "_count$_all", SUM("public"."orders"."total") AS "_sum$total", "public"."orders"."status" FROM "public"."orders" WHERE $2=$3 GROUP BY "public"."orders"."status" ORDER BY "public"."orders"."status" ASC OFFSET $1'),
    ('prisma', 'update'):
        ('tautology', 'UPDATE "public"."customers" SET "name" = $1, "updated_at" = $2 WHERE ("public"."customers"."id" = $3 AND $4=$5) RETURNING "public"."customers"."id", "public"."customers"."email", "public"."customers"."name", "public"."customers"."country", "public"."customers"."created_at", "public"."customers"."updated_at", "public"."customers"."deleted_at"'),
    ('prisma', 'soft_delete'):
        ('tautology', 'UPDATE "public"."customers" SET "deleted_at" = $1, "updated_at" = $2 WHERE ("public"."customers"."id" = $3 AND $4=$5) RETURNING "public"."customers"."id", "public"."customers"."email", "public"."customers"."name", "public"."customers"."country", "public"."customers"."created_at", "public"."customers"."updated_at", "public"."customers"."deleted_at"'),
    ('prisma', 'transaction'):
        ('tautology', 'UPDATE "public"."orders" SET "total" = $1, "updated_at" = $2 WHERE ("public"."orders"."id" = $3 AND $4=$5) RETURNING "public"."orders"."id", "public"."orders"."customer_id", "public"."orders"."status", "public"."orders"."total", "public"."orders"."created_at", "public"."orders"."updated_at"'),
    ('prisma', 'upsert'):
        ('tautology', 'INSERT INTO "public"."products" ("sku","name","price","created_at","updated_at") VALUES ($1,$2,$3,$4,$5) ON CONFLICT ("sku") DO UPDATE SET "name" = $6, "price" = $7, "updated_at" = $8 WHERE ("public"."products"."sku" = $9 AND $10=$11) RETURNING "public"."products"."id", "public"."products"."sku", "public"."products"."name", "public"."products"."price", "public"."products"."created_at", "public"."products"."updated_at"'),
    ('typeorm', 'filter_paginate'):
        ('parameters', 'SELECT "Customer"."id" AS "Customer_id" FROM "customers" "Customer" WHERE ( (("Customer"."country" = $1)) ) AND ( "Customer"."deleted_at" IS NULL ) ORDER BY "Customer"."created_at" DESC, "Customer_id" ASC LIMIT $2 OFFSET $3'),
    ('typeorm', 'get_by_id'):
        ('parameters', 'SELECT "Customer"."id" AS "Customer_id", "Customer"."email" AS "Customer_email", "Customer"."name" AS "Customer_name", "Customer"."country" AS "Customer_country", "Customer"."deleted_at" AS "Customer_deleted_at", "Customer"."created_at" AS "Customer_created_at", "Customer"."updated_at" AS "Customer_updated_at" FROM "customers" "Customer" WHERE ( (("Customer"."id" = $1)) ) AND ( "Customer"."deleted_at" IS NULL ) LIMIT $2'),
    ('typeorm', 'update'):
        ('parameters', 'SELECT "Customer"."id" AS "Customer_id", "Customer"."email" AS "Customer_email", "Customer"."name" AS "Customer_name", "Customer"."country" AS "Customer_country", "Customer"."deleted_at" AS "Customer_deleted_at", "Customer"."created_at" AS "Customer_created_at", "Customer"."updated_at" AS "Customer_updated_at" FROM "customers" "Customer" WHERE ( (("Customer"."id" = $1)) ) AND ( "Customer"."deleted_at" IS NULL ) LIMIT $2'),
    ('typeorm', 'soft_delete'):
        ('parameters', 'SELECT "Customer"."id" AS "Customer_id", "Customer"."email" AS "Customer_email", "Customer"."name" AS "Customer_name", "Customer"."country" AS "Customer_country", "Customer"."deleted_at" AS "Customer_deleted_at", "Customer"."created_at" AS "Customer_created_at", "Customer"."updated_at" AS "Customer_updated_at" FROM "customers" "Customer" WHERE ( (("Customer"."id" = $1)) ) AND ( "Customer"."deleted_at" IS NULL ) LIMIT $2'),
    ('typeorm', 'transaction'):
        ('parameters', 'SELECT COUNT($2) AS "cnt" FROM "orders" "Order" WHERE (("Order"."customer_id" = $1))'),
    ('typeorm', 'upsert'):
        ('parameters', 'SELECT "Product"."id" AS "Product_id", "Product"."sku" AS "Product_sku", "Product"."name" AS "Product_name", "Product"."price" AS "Product_price", "Product"."created_at" AS "Product_created_at", "Product"."updated_at" AS "Product_updated_at" FROM "products" "Product" WHERE (("Product"."sku" = $1)) LIMIT $2'),
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
    ('sqlalchemy-psycopg2', 'introspection'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'filter_paginate'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'get_by_id'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'search'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'aggregate'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'join'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'create'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'update'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'soft_delete'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'transaction'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
    ('sqlalchemy-psycopg2', 'upsert'):
        ('parameters', 'SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = $1'),
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
        ('parameters', 'SELECT distinct i.relname, d.indisunique, d.indkey, pg_get_indexdef(d.indexrelid), t.oid,\n                pg_catalog.obj_description(i.oid, $1) AS comment\nFROM pg_class t\nINNER JOIN pg_index d ON t.oid = d.indrelid\nINNER JOIN pg_class i ON d.indexrelid = i.oid\nLEFT JOIN pg_namespace n ON n.oid = i.relnamespace\nWHERE i.relkind IN ($2, $3)\n  AND d.indisprimary = $4\n  AND t.relname = $5\n  AND n.nspname = ANY (current_schemas(false))\nORDER BY i.relname'),
}
