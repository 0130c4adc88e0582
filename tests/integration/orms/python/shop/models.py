"""Django models over the matrix schema; the tables exist already (managed = False)."""
from django.db import models


class Stamped(models.Model):
    """Every table's two timestamps, kept by Django itself."""
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        managed = False


class Customer(Stamped):
    email = models.TextField(unique=True)
    name = models.TextField()
    country = models.TextField()
    deleted_at = models.DateTimeField(null=True)

    class Meta(Stamped.Meta):
        db_table = "customers"


class Product(Stamped):
    sku = models.TextField(unique=True)
    name = models.TextField()
    price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta(Stamped.Meta):
        db_table = "products"


class Order(Stamped):
    customer = models.ForeignKey(Customer, on_delete=models.DO_NOTHING)
    status = models.TextField(default="open")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta(Stamped.Meta):
        db_table = "orders"


class OrderItem(Stamped):
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.DO_NOTHING)
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta(Stamped.Meta):
        db_table = "order_items"
