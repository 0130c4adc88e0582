// Sequelize 6 on node-postgres: models with timestamps and paranoid (soft)
// deletes. Sequelize binds most values on the client: it escapes them into the
// text of SELECTs and WHERE clauses itself.
'use strict';
const { DataTypes, Op, Sequelize, fn, col } = require('sequelize');
const { failsWith } = require('./common');

function define(db) {
  const opts = (tableName, extra = {}) => ({ tableName, underscored: true, timestamps: true, ...extra });
  const Customer = db.define('Customer', {
    email: { type: DataTypes.TEXT, unique: true }, name: DataTypes.TEXT, country: DataTypes.TEXT,
  }, opts('customers', { paranoid: true }));
  const Product = db.define('Product', {
    sku: { type: DataTypes.TEXT, unique: true }, name: DataTypes.TEXT, price: DataTypes.DECIMAL(10, 2),
  }, opts('products'));
  const Order = db.define('Order', {
    status: DataTypes.TEXT, total: DataTypes.DECIMAL(10, 2),
  }, opts('orders'));
  const OrderItem = db.define('OrderItem', {
    quantity: DataTypes.INTEGER, unitPrice: DataTypes.DECIMAL(10, 2),
  }, opts('order_items'));
  Customer.hasMany(Order, { foreignKey: 'customerId' });
  Order.belongsTo(Customer, { foreignKey: 'customerId' });
  Order.hasMany(OrderItem, { as: 'items', foreignKey: 'orderId' });
  OrderItem.belongsTo(Product, { foreignKey: 'productId' });
  return { Customer, Product, Order, OrderItem };
}

module.exports = {
  async introspection(ctx) {
    ctx.db = new Sequelize(ctx.url, { dialect: 'postgres', logging: false, pool: { max: 1, min: 0 } });
    ctx.m = define(ctx.db);
    await ctx.db.authenticate();
    return true;
  },
  async filter_paginate({ m }, { country, page_size, page }) {
    const rows = await m.Customer.findAll({
      attributes: ['id'], where: { country },  // paranoid: deleted_at IS NULL is added by Sequelize
      order: [['createdAt', 'DESC'], ['id', 'ASC']], limit: page_size, offset: (page - 1) * page_size,
    });
    return rows.map((r) => r.id);
  },
  async get_by_id({ m }, { id }) {
    return (await m.Customer.findByPk(id)).email;
  },
  async search({ m }, { term }) {
    const rows = await m.Customer.findAll({
      attributes: ['id'], where: { name: { [Op.iLike]: `%${term}%` } }, order: [['id', 'ASC']],
    });
    return rows.map((r) => r.id);
  },
  async aggregate({ m }) {
    const rows = await m.Order.findAll({
      attributes: ['status', [fn('COUNT', col('id')), 'count'], [fn('SUM', col('total')), 'total']],
      group: ['status'], order: [['status', 'ASC']], raw: true,
    });
    return rows.map((r) => [r.status, Number(r.count), r.total]);
  },
  async join({ m }, { customer_id }) {
    const rows = await m.Order.findAll({
      where: { customerId: customer_id },
      include: [{ model: m.OrderItem, as: 'items', include: [m.Product] }],
      order: [['id', 'ASC'], [{ model: m.OrderItem, as: 'items' }, 'id', 'ASC']],
    });
    return rows.map((o) => [o.id, o.items.map((i) => [i.Product.sku, i.quantity])]);
  },
  async create({ m, stack }, { email_prefix, name, country }) {
    return (await m.Customer.create({ email: `${email_prefix}${stack}@example.com`, name, country })).email;
  },
  async update({ m }, { id, name }) {
    const c = await m.Customer.findByPk(id);
    await c.update({ name });
    return (await m.Customer.findByPk(id)).name;
  },
  async soft_delete({ m }, { id }) {
    await m.Customer.destroy({ where: { id } });  // paranoid: sets deleted_at
    return (await m.Customer.findByPk(id)) !== null;
  },
  async transaction({ db, m }, { customer_id, items, missing_product_id }) {
    const placeOrder = (lines) => db.transaction(async (transaction) => {
      const found = await m.Product.findAll({ where: { id: lines.map(([p]) => p) }, transaction });
      const price = new Map(found.map((p) => [p.id, p.price]));
      const order = await m.Order.create({ customerId: customer_id, status: 'open', total: 0 }, { transaction });
      let total = 0;
      for (const [productId, quantity] of lines) {
        const unitPrice = price.get(productId) ?? '0';
        await m.OrderItem.create({ orderId: order.id, productId, quantity, unitPrice }, { transaction });
        total += Number(unitPrice) * quantity;
      }
      await order.update({ total: total.toFixed(2) }, { transaction });
    });
    await placeOrder(items);
    const state = await failsWith('23503', () => placeOrder([[items[0][0], 1], [missing_product_id, 1]]));
    return { orders: await m.Order.count({ where: { customerId: customer_id } }), rolled_back_with: state };
  },
  async upsert({ m }, { sku, name, price }) {
    await m.Product.upsert({ sku, name, price }, { conflictFields: ['sku'] });
    const p = await m.Product.findOne({ where: { sku } });
    return [p.name, p.price];
  },
  async close({ db }) {
    if (db) await db.close();
  },
};
