// TypeORM on node-postgres: entities as EntitySchema (plain JS, no decorators),
// repositories for the flows, a query builder for the aggregate.
'use strict';
require('reflect-metadata');
const { DataSource, EntitySchema, ILike, IsNull } = require('typeorm');
const { failsWith } = require('./common');

// Every table has a serial id and the two timestamps.
const entity = (name, tableName, columns, relations = {}) => new EntitySchema({
  name, tableName, relations,
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    ...columns,
    createdAt: { type: 'timestamptz', name: 'created_at', createDate: true },
    updatedAt: { type: 'timestamptz', name: 'updated_at', updateDate: true },
  },
});
const money = { type: 'numeric', precision: 10, scale: 2 };

const Customer = entity('Customer', 'customers', {
  email: { type: 'text', unique: true }, name: { type: 'text' }, country: { type: 'text' },
  deletedAt: { type: 'timestamptz', name: 'deleted_at', nullable: true, deleteDate: true },
});
const Product = entity('Product', 'products', {
  sku: { type: 'text', unique: true }, name: { type: 'text' }, price: money,
});
const Order = entity('Order', 'orders', {
  customerId: { type: 'int', name: 'customer_id' },
  status: { type: 'text', default: 'open' },
  total: { ...money, default: 0 },
}, {
  customer: { type: 'many-to-one', target: 'Customer', joinColumn: { name: 'customer_id' } },
  items: { type: 'one-to-many', target: 'OrderItem', inverseSide: 'order' },
});
const OrderItem = entity('OrderItem', 'order_items', {
  orderId: { type: 'int', name: 'order_id' },
  productId: { type: 'int', name: 'product_id' },
  quantity: { type: 'int' },
  unitPrice: { ...money, name: 'unit_price' },
}, {
  order: { type: 'many-to-one', target: 'Order', joinColumn: { name: 'order_id' }, inverseSide: 'items' },
  product: { type: 'many-to-one', target: 'Product', joinColumn: { name: 'product_id' } },
});

module.exports = {
  async introspection(ctx) {
    ctx.ds = new DataSource({
      type: 'postgres', url: ctx.url, entities: [Customer, Product, Order, OrderItem],
      synchronize: false, migrationsRun: false, logging: false, extra: { max: 1 },
    });
    await ctx.ds.initialize();
    return true;
  },
  async filter_paginate({ ds }, { country, page_size, page }) {
    const rows = await ds.getRepository(Customer).find({
      select: { id: true },
      where: { country },  // soft-deleted rows are left out by TypeORM itself
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: (page - 1) * page_size,
      take: page_size,
    });
    return rows.map((r) => r.id);
  },
  async get_by_id({ ds }, { id }) {
    return (await ds.getRepository(Customer).findOneBy({ id })).email;
  },
  async search({ ds }, { term }) {
    const rows = await ds.getRepository(Customer).find({
      select: { id: true }, where: { name: ILike(`%${term}%`) }, order: { id: 'ASC' },
    });
    return rows.map((r) => r.id);
  },
  async aggregate({ ds }) {
    const rows = await ds.getRepository(Order).createQueryBuilder('o')
      .select('o.status', 'status').addSelect('COUNT(*)', 'count').addSelect('SUM(o.total)', 'total')
      .groupBy('o.status').orderBy('o.status').getRawMany();
    return rows.map((r) => [r.status, Number(r.count), r.total]);
  },
  async join({ ds }, { customer_id }) {
    const rows = await ds.getRepository(Order).find({
      where: { customerId: customer_id },
      relations: { items: { product: true } },
      order: { id: 'ASC', items: { id: 'ASC' } },
    });
    return rows.map((o) => [o.id, o.items.map((i) => [i.product.sku, i.quantity])]);
  },
  async create({ ds, stack }, { email_prefix, name, country }) {
    const repo = ds.getRepository(Customer);
    const c = await repo.save(repo.create({ email: `${email_prefix}${stack}@example.com`, name, country }));
    return c.email;
  },
  async update({ ds }, { id, name }) {
    const repo = ds.getRepository(Customer);
    await repo.update({ id }, { name });
    return (await repo.findOneBy({ id })).name;
  },
  async soft_delete({ ds }, { id }) {
    const repo = ds.getRepository(Customer);
    await repo.softDelete({ id });
    return (await repo.findOneBy({ id })) !== null;
  },
  async transaction({ ds }, { customer_id, items, missing_product_id }) {
    const placeOrder = (lines) => ds.transaction(async (m) => {
      const found = await m.getRepository(Product).findBy(lines.map(([id]) => ({ id })));
      const price = new Map(found.map((p) => [p.id, p.price]));
      const order = await m.getRepository(Order).save({ customerId: customer_id, status: 'open' });
      let total = 0;
      for (const [productId, quantity] of lines) {
        const unitPrice = price.get(productId) ?? '0';
        await m.getRepository(OrderItem).save({ orderId: order.id, productId, quantity, unitPrice });
        total += Number(unitPrice) * quantity;
      }
      await m.getRepository(Order).update({ id: order.id }, { total: total.toFixed(2) });
    });
    await placeOrder(items);
    const state = await failsWith('23503', () => placeOrder([[items[0][0], 1], [missing_product_id, 1]]));
    return { orders: await ds.getRepository(Order).countBy({ customerId: customer_id }), rolled_back_with: state };
  },
  async upsert({ ds }, { sku, name, price }) {
    const repo = ds.getRepository(Product);
    await repo.upsert({ sku, name, price }, ['sku']);
    const p = await repo.findOneBy({ sku });
    return [p.name, p.price];
  },
  async close({ ds }) {
    if (ds && ds.isInitialized) await ds.destroy();
  },
};
