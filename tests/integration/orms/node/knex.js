// Knex on node-postgres: the query builder, with joins written out as SQL apps
// write them (Knex has no relations of its own).
'use strict';
const knex = require('knex');
const { failsWith } = require('./common');

module.exports = {
  async introspection(ctx) {
    ctx.db = knex({ client: 'pg', connection: ctx.url, pool: { min: 0, max: 1 } });
    // Knex reads nothing at connect: acquiring the pool's connection is all it does.
    await ctx.db.client.releaseConnection(await ctx.db.client.acquireConnection());
    return true;
  },
  async filter_paginate({ db }, { country, page_size, page }) {
    const rows = await db('customers').select('id').whereNull('deleted_at').andWhere({ country })
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'asc' }])
      .limit(page_size).offset((page - 1) * page_size);
    return rows.map((r) => r.id);
  },
  async get_by_id({ db }, { id }) {
    return (await db('customers').where({ id }).first()).email;
  },
  async search({ db }, { term }) {
    const rows = await db('customers').select('id').whereNull('deleted_at').whereILike('name', `%${term}%`)
      .orderBy('id');
    return rows.map((r) => r.id);
  },
  async aggregate({ db }) {
    const rows = await db('orders').select('status').count('* as count').sum('total as total')
      .groupBy('status').orderBy('status');
    return rows.map((r) => [r.status, Number(r.count), r.total]);
  },
  async join({ db }, { customer_id }) {
    const rows = await db('orders as o')
      .join('order_items as i', 'i.order_id', 'o.id')
      .join('products as p', 'p.id', 'i.product_id')
      .where('o.customer_id', customer_id)
      .orderBy(['o.id', 'i.id'])
      .select('o.id', 'p.sku', 'i.quantity');
    const byOrder = new Map();
    for (const r of rows) {
      if (!byOrder.has(r.id)) byOrder.set(r.id, []);
      byOrder.get(r.id).push([r.sku, r.quantity]);
    }
    return [...byOrder];
  },
  async create({ db, stack }, { email_prefix, name, country }) {
    const [c] = await db('customers').insert({ email: `${email_prefix}${stack}@example.com`, name, country })
      .returning('*');
    return c.email;
  },
  async update({ db }, { id, name }) {
    const [c] = await db('customers').where({ id }).update({ name, updated_at: db.fn.now() }).returning('*');
    return c.name;
  },
  async soft_delete({ db }, { id }) {
    await db('customers').where({ id }).update({ deleted_at: db.fn.now() });
    return (await db('customers').where({ id }).whereNull('deleted_at').first()) !== undefined;
  },
  async transaction({ db }, { customer_id, items, missing_product_id }) {
    const placeOrder = (lines) => db.transaction(async (trx) => {
      const found = await trx('products').whereIn('id', lines.map(([p]) => p));
      const price = new Map(found.map((p) => [p.id, p.price]));
      const [order] = await trx('orders').insert({ customer_id }).returning('id');
      let total = 0;
      for (const [product_id, quantity] of lines) {
        const unit_price = price.get(product_id) ?? '0';
        await trx('order_items').insert({ order_id: order.id, product_id, quantity, unit_price });
        total += Number(unit_price) * quantity;
      }
      await trx('orders').where({ id: order.id }).update({ total: total.toFixed(2) });
    });
    await placeOrder(items);
    const state = await failsWith('23503', () => placeOrder([[items[0][0], 1], [missing_product_id, 1]]));
    const [{ n }] = await db('orders').where({ customer_id }).count('* as n');
    return { orders: Number(n), rolled_back_with: state };
  },
  async upsert({ db }, { sku, name, price }) {
    const [p] = await db('products').insert({ sku, name, price }).onConflict('sku')
      .merge({ name, price, updated_at: db.fn.now() }).returning('*');
    return [p.name, p.price];
  },
  async close({ db }) {
    if (db) await db.destroy();
  },
};
