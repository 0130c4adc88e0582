"""Django 3.2's ORM on psycopg2, which binds on the client: every value is
escaped into the statement's text before it is sent."""
from decimal import Decimal
from urllib.parse import unquote, urlsplit

import django
from django.conf import settings

from run import fails_with


class App:
    def __init__(self, url, driver, stack):
        u = urlsplit(url)
        settings.configure(
            DATABASES={"default": {
                "ENGINE": "django.db.backends.postgresql", "NAME": u.path.lstrip("/"),
                "USER": unquote(u.username), "PASSWORD": unquote(u.password), "HOST": u.hostname, "PORT": u.port,
            }},
            INSTALLED_APPS=["shop"], USE_TZ=True, TIME_ZONE="UTC", DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        )
        django.setup()
        self.stack = stack

    def introspection(self):
        from django.db import connection
        connection.ensure_connection()
        return True

    def filter_paginate(self, country, page_size, page):
        from shop.models import Customer
        live = Customer.objects.filter(deleted_at__isnull=True, country=country).order_by("-created_at", "id")
        offset = (page - 1) * page_size
        return list(live.values_list("id", flat=True)[offset:offset + page_size])

    def get_by_id(self, id):
        from shop.models import Customer
        return Customer.objects.get(pk=id).email

    def search(self, term):
        from shop.models import Customer
        found = Customer.objects.filter(deleted_at__isnull=True, name__icontains=term).order_by("id")
        return list(found.values_list("id", flat=True))

    def aggregate(self):
        from django.db.models import Count, Sum
        from shop.models import Order
        rows = Order.objects.values("status").annotate(n=Count("id"), total=Sum("total")).order_by("status")
        return [[r["status"], r["n"], f"{r['total']:.2f}"] for r in rows]

    def join(self, customer_id):
        from django.db.models import Prefetch
        from shop.models import Order, OrderItem
        orders = (Order.objects.filter(customer_id=customer_id).order_by("id")
                  .prefetch_related(Prefetch("items", OrderItem.objects.select_related("product").order_by("id"))))
        return [[o.id, [[i.product.sku, i.quantity] for i in o.items.all()]] for o in orders]

    def create(self, email_prefix, name, country):
        from shop.models import Customer
        return Customer.objects.create(email=f"{email_prefix}{self.stack}@example.com", name=name, country=country).email

    def update(self, id, name):
        from shop.models import Customer
        c = Customer.objects.get(pk=id)
        c.name = name
        c.save(update_fields=["name", "updated_at"])
        return Customer.objects.get(pk=id).name

    def soft_delete(self, id):
        from django.db.models.functions import Now
        from shop.models import Customer
        Customer.objects.filter(pk=id).update(deleted_at=Now())
        return Customer.objects.filter(pk=id, deleted_at__isnull=True).exists()

    def transaction(self, customer_id, items, missing_product_id):
        from django.db import transaction
        from shop.models import Order, OrderItem, Product

        def place_order(lines):
            with transaction.atomic():
                price = {p.id: p.price for p in Product.objects.filter(id__in=[p for p, _ in lines])}
                order = Order.objects.create(customer_id=customer_id, status="open")
                total = Decimal(0)
                for product_id, quantity in lines:
                    unit_price = price.get(product_id, Decimal(0))
                    OrderItem.objects.create(order=order, product_id=product_id, quantity=quantity, unit_price=unit_price)
                    total += unit_price * quantity
                order.total = total
                order.save(update_fields=["total", "updated_at"])
        place_order(items)
        state = fails_with("23503", lambda: place_order([[items[0][0], 1], [missing_product_id, 1]]))
        return {"orders": Order.objects.filter(customer_id=customer_id).count(), "rolled_back_with": state}

    def upsert(self, sku, name, price):
        # Django 3.2 has no INSERT ... ON CONFLICT (bulk_create's update_conflicts came in 4.1):
        # update_or_create is its upsert, a locked read and an UPDATE or INSERT.
        from shop.models import Product
        p, _ = Product.objects.update_or_create(sku=sku, defaults={"name": name, "price": Decimal(price)})
        p.refresh_from_db()
        return [p.name, f"{p.price:.2f}"]

    def close(self):
        from django.db import connection
        connection.close()
