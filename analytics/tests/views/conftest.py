"""A tiny, hand-checked sales dataset for the page tests.

Three transactions: customer C1 buys twice (Kanyon, Shoes, 200 gross / 20 discount / 180 net in
January 2023, and Metrocity, Books, 50 net in February), customer C2 once (Kanyon, Books, 30 net in
February). So: gross 280, discount 20, net 260, 3 transactions, 2 customers, average basket 86.67,
one repeat customer of two (50 %) holding 230 / 260 = 88.5 % of net sales.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from analytics.tests import factories
from analytics.warehouse import warehouse_rebuild


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Test databases roll back, so the same data version means different data in each test.
    cache.clear()


def add_line(
    *,
    invoice: str,
    customer: str,
    store: str,
    category: str,
    day: datetime.date,
    quantity: int,
    unit: str,
    discount: str,
) -> None:
    gross = Decimal(unit) * quantity
    factories.TransactionLineFactory(
        invoice_no=invoice,
        customer=factories.CustomerFactory(external_id=customer),
        store=factories.StoreFactory(name=store),
        category=factories.CategoryFactory(name=category),
        date=day,
        quantity=quantity,
        unit_price=Decimal(unit),
        gross_amount=gross,
        discount_amount=Decimal(discount),
        net_amount=gross - Decimal(discount),
    )


@pytest.fixture
def sales(db: None) -> None:
    add_line(
        invoice="I1", customer="C1", store="Kanyon", category="Shoes",
        day=datetime.date(2023, 1, 10), quantity=2, unit="100", discount="20",
    )  # fmt: skip
    add_line(
        invoice="I2", customer="C1", store="Metrocity", category="Books",
        day=datetime.date(2023, 2, 5), quantity=1, unit="50", discount="0",
    )  # fmt: skip
    add_line(
        invoice="I3", customer="C2", store="Kanyon", category="Books",
        day=datetime.date(2023, 2, 20), quantity=1, unit="30", discount="0",
    )  # fmt: skip
    warehouse_rebuild()
