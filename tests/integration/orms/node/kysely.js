// Kysely on node-postgres: the typed query builder, with relations loaded the way
// Kysely's documentation shows (jsonArrayFrom from kysely/helpers/postgres).
'use strict';
const { Pool } = require('pg');
const { Kysely, PostgresDialect, sql } = require('kysely');
const { jsonArrayFrom } = require('kysely/helpers/postgres');
const { failsWith } = require('./common');

module.exports = {
  async introspection(ctx) {
    ctx.pool = new Pool({ connectionString: ctx.url, max: 1 });
    ctx.db = new Kysely({ dialect: new PostgresDialect({ pool: ctx.pool }) });
    (await ctx.pool.connect()).release();  // Kysely itself reads nothing at connect
    return true;
  },
  async filter_paginate({ db }, { country, page_size, page }) {
    const rows = await db.selectFrom('customers').select('id')
      .where('deleted_at', 'is', null).where('country', '=', country)
      .orderBy('created_at', 'desc').orderBy('id', 'asc')
      .limit(page_size).offset((page - 1) * page_size).execute();
    return rows.map((r) => r.id);
  },
  async get_by_id({ db }, { id }) {
    return (await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow()).email;
  },
  async search({ db }, { term }) {
    const rows = await db.selectFrom('customers').select('id')
      .where('deleted_at', 'is', null).where('name', 'ilike', `%${term}%`).orderBy('id').execute();
    return rows.map((r) => r.id);
  },
  async aggregate({ db }) {
    const rows = await db.selectFrom('orders')
      .select((eb) => ['status', eb.fn.countAll().as('count'), eb.fn.sum('total').as('total')])
      .groupBy('status').orderBy('status').execute();
    return rows.map((r) => [r.status, Number(r.count), r.total]);
  },
  async join({ db }, { customer_id }) {
    const rows = await db.selectFrom('orders').select((eb) => [
      'orders.id',
      jsonArrayFrom(eb.selectFrom('order_items').innerJoin('products', 'products.id', 'order_items.product_id')
        .select(['products.sku', 'order_items.quantity'])
        .whereRef('order_items.order_id', '=', 'orders.id').orderBy('order_items.id')).as('items'),
    ]).where('customer_id', '=', customer_id).orderBy('orders.id').execute();
    return rows.map((o) => [o.id, o.items.map((i) => [i.sku, i.quantity])]);
  },
  async create({ db, stack }, { email_prefix, name, country }) {
    const c = await db.insertInto('customers').values({ email: `${email_prefix}${stack}@example.com`, name, country })
      .returningAll().executeTakeFirstOrThrow();
    return c.email;
  },
  async update({ db }, { id, name }) {
    const c = await db.updateTable('customers').set({ name, updated_at: sql`now()` }).where('id', '=', id)
      .returningAll().executeTakeFirstOrThrow();
    return c.name;
  },
  async soft_delete({ db }, { id }) {
    await db.updateTable('customers').set({ deleted_at: sql`now()` }).where('id', '=', id).execute();
    const live = await db.selectFrom('customers').select('id').where('id', '=', id).where('deleted_at', 'is', null)
      .executeTakeFirst();
    return live !== undefined;
  },
  async transaction({ db }, { customer_id, items, missing_product_id }) {
    const placeOrder = (lines) => db.transaction().execute(async (trx) => {
      const found = await trx.selectFrom('products').selectAll().where('id', 'in', lines.map(([p]) => p)).execute();
      const price = new Map(found.map((p) => [p.id, p.price]));
      const order = await trx.insertInto('orders').values({ customer_id }).returning('id').executeTakeFirstOrThrow();
      let total = 0;
      for (const [product_id, quantity] of lines) {
        const unit_price = price.get(product_id) ?? '0';
        await trx.insertInto('order_items').values({ order_id: order.id, product_id, quantity, unit_price }).execute();
        total += Number(unit_price) * quantity;
      }
      await trx.updateTable('orders').set({ total: total.toFixed(2) }).where('id', '=', order.id).execute();
    });
    await placeOrder(items);
    const state = await failsWith('23503', () => placeOrder([[items[0][0], 1], [missing_product_id, 1]]));
    const { n } = await db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n'))
      .where('customer_id', '=', customer_id).executeTakeFirstOrThrow();
    return { orders: Number(n), rolled_back_with: state };
  },
  async upsert({ db }, { sku, name, price }) {
    const p = await db.insertInto('products').values({ sku, name, price })
      .onConflict((oc) => oc.column('sku').doUpdateSet({ name, price, updated_at: sql`now()` }))
      .returningAll().executeTakeFirstOrThrow();
    return [p.name, p.price];
  },
  async close({ db }) {
    if (db) await db.destroy();
  },
};
