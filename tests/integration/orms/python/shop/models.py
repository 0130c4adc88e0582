"""Django models over the matrix schema; the tables exist already (managed = False)."""
from django.db import models


def stamps():
    """Every table's two timestamps, kept by Django itself; made in each model's
    body so they come after its own fields, as in the tables."""
    return models.DateTimeField(auto_now_add=True), models.DateTimeField(auto_now=True)


class Customer(models.Model):
    email = models.TextField(unique=True)
    name = models.TextField()
    country = models.TextField()
    created_at, updated_at = stamps()
    deleted_at = models.DateTimeField(null=True)

    class Meta:
        managed, db_table = False, "customers"


class Product(models.Model):
    sku = models.TextField(unique=True)
    name = models.TextField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    created_at, updated_at = stamps()

    class Meta:
        managed, db_table = False, "products"


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.DO_NOTHING)
    status = models.TextField(default="open")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    created_at, updated_at = stamps()

    class Meta:
        managed, db_table = False, "orders"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.DO_NOTHING)
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    created_at, updated_at = stamps()

    class Meta:
        managed, db_table = False, "order_items"
