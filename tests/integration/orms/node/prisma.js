// Prisma 7 (prisma-client-js generator, query compiler) on node-postgres through
// its driver adapter @prisma/adapter-pg: the eleven flows with Prisma's own API.
'use strict';
const { PrismaClient } = require('./generated/prisma');
const { PrismaPg } = require('@prisma/adapter-pg');
const { failsWith } = require('./common');

const money = (d) => (d === null ? null : d.toFixed(2));

module.exports = {
  async introspection(ctx) {
    // One pooled connection, so whatever Prisma does on connect happens here.
    ctx.db = new PrismaClient({ adapter: new PrismaPg({ connectionString: ctx.url, max: 1 }) });
    await ctx.db.$connect();
    return true;
  },
  async filter_paginate({ db }, { country, page_size, page }) {
    const rows = await db.customer.findMany({
      where: { deletedAt: null, country },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      skip: (page - 1) * page_size,
      take: page_size,
      select: { id: true },
    });
    return rows.map((r) => r.id);
  },
  async get_by_id({ db }, { id }) {
    return (await db.customer.findUnique({ where: { id } })).email;
  },
  async search({ db }, { term }) {
    const rows = await db.customer.findMany({
      where: { deletedAt: null, name: { contains: term, mode: 'insensitive' } },
      orderBy: { id: 'asc' },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  },
  async aggregate({ db }) {
    const groups = await db.order.groupBy({
      by: ['status'], _count: { _all: true }, _sum: { total: true }, orderBy: { status: 'asc' },
    });
    return groups.map((g) => [g.status, g._count._all, money(g._sum.total)]);
  },
  async join({ db }, { customer_id }) {
    const orders = await db.order.findMany({
      where: { customerId: customer_id },
      orderBy: { id: 'asc' },
      include: { items: { orderBy: { id: 'asc' }, include: { product: true } } },
    });
    return orders.map((o) => [o.id, o.items.map((i) => [i.product.sku, i.quantity])]);
  },
  async create({ db, stack }, { email_prefix, name, country }) {
    const c = await db.customer.create({ data: { email: `${email_prefix}${stack}@example.com`, name, country } });
    return c.email;
  },
  async update({ db }, { id, name }) {
    return (await db.customer.update({ where: { id }, data: { name } })).name;
  },
  async soft_delete({ db }, { id }) {
    await db.customer.update({ where: { id }, data: { deletedAt: new Date() } });
    return (await db.customer.findFirst({ where: { id, deletedAt: null } })) !== null;
  },
  async transaction({ db }, { customer_id, items, missing_product_id }) {
    const placeOrder = (lines) => db.$transaction(async (tx) => {
      const products = await tx.product.findMany({ where: { id: { in: lines.map(([p]) => p) } } });
      const price = new Map(products.map((p) => [p.id, p.price]));
      const order = await tx.order.create({ data: { customerId: customer_id, status: 'open' } });
      let total = 0;
      for (const [productId, quantity] of lines) {
        const unitPrice = price.get(productId) ?? 0;
        await tx.orderItem.create({ data: { orderId: order.id, productId, quantity, unitPrice } });
        total += Number(unitPrice) * quantity;
      }
      await tx.order.update({ where: { id: order.id }, data: { total } });
    });
    await placeOrder(items);
    const state = await failsWith('23503', () => placeOrder([[items[0][0], 1], [missing_product_id, 1]]));
    return { orders: await db.order.count({ where: { customerId: customer_id } }), rolled_back_with: state };
  },
  async upsert({ db }, { sku, name, price }) {
    const p = await db.product.upsert({ where: { sku }, create: { sku, name, price }, update: { name, price } });
    return [p.name, money(p.price)];
  },
  async close({ db }) {
    if (db) await db.$disconnect();
  },
};
