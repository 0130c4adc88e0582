// Drizzle ORM on node-postgres: the SQL-like builder for filters, aggregates and
// writes, and the relational queries API (db.query) for look-ups and relations.
'use strict';
const { Pool } = require('pg');
const { drizzle } = require('drizzle-orm/node-postgres');
const { pgTable, serial, text, integer, numeric, timestamp } = require('drizzle-orm/pg-core');
const { relations, and, asc, count, desc, eq, ilike, inArray, isNull, sum } = require('drizzle-orm');
const { failsWith } = require('./common');

const stamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};
const customers = pgTable('customers', {
  id: serial('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  country: text('country').notNull(),
  ...stamps,
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
});
const products = pgTable('products', {
  id: serial('id').primaryKey(),
  sku: text('sku').notNull().unique(),
  name: text('name').notNull(),
  price: numeric('price', { precision: 10, scale: 2 }).notNull(),
  ...stamps,
});
const orders = pgTable('orders', {
  id: serial('id').primaryKey(),
  customerId: integer('customer_id').notNull().references(() => customers.id),
  status: text('status').notNull().default('open'),
  total: numeric('total', { precision: 10, scale: 2 }).notNull().default('0'),
  ...stamps,
});
const orderItems = pgTable('order_items', {
  id: serial('id').primaryKey(),
  orderId: integer('order_id').notNull().references(() => orders.id),
  productId: integer('product_id').notNull().references(() => products.id),
  quantity: integer('quantity').notNull(),
  unitPrice: numeric('unit_price', { precision: 10, scale: 2 }).notNull(),
  ...stamps,
});
const schema = {
  customers, products, orders, orderItems,
  customersRelations: relations(customers, ({ many }) => ({ orders: many(orders) })),
  ordersRelations: relations(orders, ({ one, many }) => ({
    customer: one(customers, { fields: [orders.customerId], references: [customers.id] }),
    items: many(orderItems),
  })),
  orderItemsRelations: relations(orderItems, ({ one }) => ({
    order: one(orders, { fields: [orderItems.orderId], references: [orders.id] }),
    product: one(products, { fields: [orderItems.productId], references: [products.id] }),
  })),
};

module.exports = {
  async introspection(ctx) {
    ctx.pool = new Pool({ connectionString: ctx.url, max: 1 });
    ctx.db = drizzle(ctx.pool, { schema });
    (await ctx.pool.connect()).release();  // Drizzle itself reads nothing at connect
    return true;
  },
  async filter_paginate({ db }, { country, page_size, page }) {
    const rows = await db.select({ id: customers.id }).from(customers)
      .where(and(isNull(customers.deletedAt), eq(customers.country, country)))
      .orderBy(desc(customers.createdAt), asc(customers.id))
      .limit(page_size).offset((page - 1) * page_size);
    return rows.map((r) => r.id);
  },
  async get_by_id({ db }, { id }) {
    return (await db.query.customers.findFirst({ where: eq(customers.id, id) })).email;
  },
  async search({ db }, { term }) {
    const rows = await db.select({ id: customers.id }).from(customers)
      .where(and(isNull(customers.deletedAt), ilike(customers.name, `%${term}%`)))
      .orderBy(asc(customers.id));
    return rows.map((r) => r.id);
  },
  async aggregate({ db }) {
    const rows = await db.select({ status: orders.status, count: count(), total: sum(orders.total) })
      .from(orders).groupBy(orders.status).orderBy(orders.status);
    return rows.map((r) => [r.status, r.count, r.total]);
  },
  async join({ db }, { customer_id }) {
    const rows = await db.query.orders.findMany({
      where: eq(orders.customerId, customer_id),
      orderBy: asc(orders.id),
      with: { items: { orderBy: asc(orderItems.id), with: { product: true } } },
    });
    return rows.map((o) => [o.id, o.items.map((i) => [i.product.sku, i.quantity])]);
  },
  async create({ db, stack }, { email_prefix, name, country }) {
    const [c] = await db.insert(customers).values({ email: `${email_prefix}${stack}@example.com`, name, country })
      .returning();
    return c.email;
  },
  async update({ db }, { id, name }) {
    const [c] = await db.update(customers).set({ name, updatedAt: new Date() }).where(eq(customers.id, id))
      .returning();
    return c.name;
  },
  async soft_delete({ db }, { id }) {
    await db.update(customers).set({ deletedAt: new Date() }).where(eq(customers.id, id));
    const live = await db.query.customers.findFirst({ where: and(eq(customers.id, id), isNull(customers.deletedAt)) });
    return live !== undefined;
  },
  async transaction({ db }, { customer_id, items, missing_product_id }) {
    const placeOrder = (lines) => db.transaction(async (tx) => {
      const found = await tx.select().from(products).where(inArray(products.id, lines.map(([p]) => p)));
      const price = new Map(found.map((p) => [p.id, p.price]));
      const [order] = await tx.insert(orders).values({ customerId: customer_id }).returning({ id: orders.id });
      let total = 0;
      for (const [productId, quantity] of lines) {
        const unitPrice = price.get(productId) ?? '0';
        await tx.insert(orderItems).values({ orderId: order.id, productId, quantity, unitPrice });
        total += Number(unitPrice) * quantity;
      }
      await tx.update(orders).set({ total: total.toFixed(2) }).where(eq(orders.id, order.id));
    });
    await placeOrder(items);
    const state = await failsWith('23503', () => placeOrder([[items[0][0], 1], [missing_product_id, 1]]));
    const [{ n }] = await db.select({ n: count() }).from(orders).where(eq(orders.customerId, customer_id));
    return { orders: n, rolled_back_with: state };
  },
  async upsert({ db }, { sku, name, price }) {
    const [p] = await db.insert(products).values({ sku, name, price })
      .onConflictDoUpdate({ target: products.sku, set: { name, price, updatedAt: new Date() } })
      .returning();
    return [p.name, p.price];
  },
  async close({ pool }) {
    if (pool) await pool.end();
  },
};
