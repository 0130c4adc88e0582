"""SQLAlchemy 1.4 ORM (2.0-style select()) on psycopg2 (client-side binding) or
on asyncpg (server-side binding, through the asyncio extension). Debian 12's
SQLAlchemy 1.4 has no psycopg 3 dialect (it came with 2.0): asyncpg stands in as
its driver that binds on the server. One set of flows serves both drivers."""
import asyncio
from decimal import Decimal

from sqlalchemy import Column, DateTime, ForeignKey, Integer, Numeric, Text, create_engine, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, declarative_base, joinedload, relationship, selectinload

from run import fails_with

Base = declarative_base()


def stamps():
    return (Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()))


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    email = Column(Text, nullable=False, unique=True)
    name = Column(Text, nullable=False)
    country = Column(Text, nullable=False)
    created_at, updated_at = stamps()
    deleted_at = Column(DateTime(timezone=True))


class Product(Base):
    __tablename__ = "products"
    id = Column(Integer, primary_key=True)
    sku = Column(Text, nullable=False, unique=True)
    name = Column(Text, nullable=False)
    price = Column(Numeric(10, 2), nullable=False)
    created_at, updated_at = stamps()


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    status = Column(Text, nullable=False, default="open")
    total = Column(Numeric(10, 2), nullable=False, default=0)
    created_at, updated_at = stamps()
    items = relationship("OrderItem", order_by="OrderItem.id")


class OrderItem(Base):
    __tablename__ = "order_items"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Numeric(10, 2), nullable=False)
    created_at, updated_at = stamps()
    product = relationship("Product")


class App:
    def __init__(self, url, driver, stack):
        self.url = url.replace("postgresql://", f"postgresql+{driver}://", 1)
        self.driver = driver
        self.stack = stack
        self.engine = None
        self.loop = asyncio.new_event_loop() if driver == "asyncpg" else None

    def session(self, work):
        """Runs work(session) in a new session, as one request of a web app would."""
        if self.loop is None:
            with Session(self.engine, future=True) as s:
                return work(s)
        from sqlalchemy.ext.asyncio import AsyncSession

        async def run():
            async with AsyncSession(self.engine) as s:
                return await s.run_sync(work)
        return self.loop.run_until_complete(run())

    def introspection(self):
        # One pooled connection: the dialect's first-connect look-ups happen here.
        if self.loop is None:
            self.engine = create_engine(self.url, future=True, pool_size=1, max_overflow=0)
            self.engine.connect().close()
        else:
            from sqlalchemy.ext.asyncio import create_async_engine
            self.engine = create_async_engine(self.url, pool_size=1, max_overflow=0)

            async def connect():
                async with self.engine.connect():
                    pass
            self.loop.run_until_complete(connect())
        return True

    def filter_paginate(self, country, page_size, page):
        q = (select(Customer.id).where(Customer.deleted_at.is_(None), Customer.country == country)
             .order_by(Customer.created_at.desc(), Customer.id).limit(page_size).offset((page - 1) * page_size))
        return self.session(lambda s: list(s.scalars(q)))

    def get_by_id(self, id):
        return self.session(lambda s: s.get(Customer, id).email)

    def search(self, term):
        q = select(Customer.id).where(Customer.deleted_at.is_(None), Customer.name.ilike(f"%{term}%")).order_by(Customer.id)
        return self.session(lambda s: list(s.scalars(q)))

    def aggregate(self):
        q = select(Order.status, func.count(), func.sum(Order.total)).group_by(Order.status).order_by(Order.status)
        return self.session(lambda s: [[st, n, f"{total:.2f}"] for st, n, total in s.execute(q)])

    def join(self, customer_id):
        q = (select(Order).where(Order.customer_id == customer_id).order_by(Order.id)
             .options(selectinload(Order.items).joinedload(OrderItem.product)))
        return self.session(lambda s: [[o.id, [[i.product.sku, i.quantity] for i in o.items]] for o in s.scalars(q)])

    def create(self, email_prefix, name, country):
        def work(s):
            c = Customer(email=f"{email_prefix}{self.stack}@example.com", name=name, country=country)
            s.add(c)
            s.commit()
            return c.email
        return self.session(work)

    def update(self, id, name):
        def work(s):
            s.get(Customer, id).name = name
            s.commit()
            return s.get(Customer, id).name
        return self.session(work)

    def soft_delete(self, id):
        def work(s):
            s.execute(update(Customer).where(Customer.id == id).values(deleted_at=func.now()))
            s.commit()
            return s.scalars(select(Customer).where(Customer.id == id, Customer.deleted_at.is_(None))).first() is not None
        return self.session(work)

    def transaction(self, customer_id, items, missing_product_id):
        def place_order(lines):
            def work(s):
                with s.begin():
                    price = {p.id: p.price for p in s.scalars(select(Product).where(Product.id.in_([p for p, _ in lines])))}
                    order = Order(customer_id=customer_id, status="open")
                    s.add(order)
                    s.flush()
                    total = Decimal(0)
                    for product_id, quantity in lines:
                        unit_price = price.get(product_id, Decimal(0))
                        s.add(OrderItem(order_id=order.id, product_id=product_id, quantity=quantity, unit_price=unit_price))
                        s.flush()
                        total += unit_price * quantity
                    order.total = total
            self.session(work)
        place_order(items)
        state = fails_with("23503", lambda: place_order([[items[0][0], 1], [missing_product_id, 1]]))
        count = select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
        return {"orders": self.session(lambda s: s.scalar(count)), "rolled_back_with": state}

    def upsert(self, sku, name, price):
        q = (insert(Product).values(sku=sku, name=name, price=Decimal(price))
             .on_conflict_do_update(index_elements=[Product.sku],
                                    set_={"name": name, "price": Decimal(price), "updated_at": func.now()})
             .returning(Product.name, Product.price))

        def work(s):
            n, p = s.execute(q).one()
            s.commit()
            return [n, f"{p:.2f}"]
        return self.session(work)

    def close(self):
        if self.engine is None:
            return
        if self.loop is None:
            self.engine.dispose()
        else:
            self.loop.run_until_complete(self.engine.dispose())
            self.loop.close()
