"""factory_boy factories for the sales data. Lines get consistent money: net = gross - discount."""

from __future__ import annotations

import uuid
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from analytics import models


class StoreFactory(DjangoModelFactory):
    class Meta:
        model = models.Store
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Store {n}")


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = models.Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class PaymentMethodFactory(DjangoModelFactory):
    class Meta:
        model = models.PaymentMethod
        django_get_or_create = ("name",)

    name = "Cash"


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = models.Customer
        django_get_or_create = ("external_id",)

    external_id = factory.Sequence(lambda n: f"C{n:06d}")
    gender = "Female"
    age = 35


class ImportBatchFactory(DjangoModelFactory):
    class Meta:
        model = models.ImportBatch

    file_name = factory.Sequence(lambda n: f"batch_{n}.csv")
    file = factory.LazyAttribute(lambda o: f"imports/{o.file_name}")
    status = models.ImportBatch.Status.SUCCEEDED


class TransactionLineFactory(DjangoModelFactory):
    class Meta:
        model = models.TransactionLine

    row_key = factory.LazyFunction(uuid.uuid4)
    batch = factory.SubFactory(ImportBatchFactory)
    invoice_no = factory.Sequence(lambda n: f"I{n:07d}")
    customer = factory.SubFactory(CustomerFactory)
    store = factory.SubFactory(StoreFactory)
    category = factory.SubFactory(CategoryFactory)
    payment_method = factory.SubFactory(PaymentMethodFactory)
    date = factory.Faker("date_between", start_date="-2y", end_date="today")
    quantity = 1
    unit_price = Decimal("10.00")
    gross_amount = factory.LazyAttribute(lambda o: (o.unit_price * o.quantity).quantize(Decimal("0.01")))
    discount_amount = Decimal("0.00")
    net_amount = factory.LazyAttribute(lambda o: o.gross_amount - o.discount_amount)
    cost = None
    is_return = factory.LazyAttribute(lambda o: o.quantity < 0)
