"""Sales data with real repeat customers for the segmentation tests, built through the analytics
factories, plus an independent computation of R, F and M from the same raw rows."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from analytics import models as analytics_models
from analytics.tests import factories
from analytics.warehouse import warehouse_batch_add


@dataclass(frozen=True)
class RawLine:
    customer: str
    invoice: str
    date: datetime.date
    net: Decimal
    is_return: bool
    category: str = "Shoes"
    store: str = "Main street"


CATEGORIES = ("Shoes", "Books", "Toys")
STORES = ("Main street", "Harbour")


def build_sales(*, customers: int = 60, seed: int = 7, one_purchase_each: bool = False) -> list[RawLine]:
    """Lines for `customers` customers over two years: most buy several times, some lines are
    returns, one customer only ever returned, one returned more than they bought."""
    rng = random.Random(seed)
    start = datetime.date(2023, 1, 1)
    raw: list[RawLine] = []
    invoice_number = 0

    def invoice() -> str:
        nonlocal invoice_number
        invoice_number += 1
        return f"INV{invoice_number:06d}"

    for index in range(customers):
        external_id = f"CUST{index:04d}"
        purchases = 1 if one_purchase_each else rng.choice([1, 1, 2, 3, 4, 6, 9, 14])
        for _ in range(purchases):
            number = invoice()
            day = start + datetime.timedelta(days=rng.randint(0, 729))
            store = rng.choice(STORES)
            for _ in range(rng.randint(1, 3)):
                net = Decimal(rng.randint(500, 90000)) / 100
                raw.append(RawLine(external_id, number, day, net, False, rng.choice(CATEGORIES), store))
        if not one_purchase_each and index % 7 == 3:
            day = start + datetime.timedelta(days=rng.randint(0, 729))
            raw.append(RawLine(external_id, invoice(), day, -Decimal(rng.randint(100, 3000)) / 100, True))
    if not one_purchase_each:
        # A purchase and a return on the same invoice: one purchase.
        number = invoice()
        raw.append(RawLine("MIXED", number, datetime.date(2024, 6, 1), Decimal("120.00"), False))
        raw.append(RawLine("MIXED", number, datetime.date(2024, 6, 1), Decimal("-20.00"), True))
        # Returned more than they bought: negative monetary value.
        raw.append(RawLine("NETNEG", invoice(), datetime.date(2023, 3, 1), Decimal("10.00"), False))
        raw.append(RawLine("NETNEG", invoice(), datetime.date(2024, 12, 1), Decimal("-45.50"), True))
        # Only ever returned: no purchase, so not segmented.
        raw.append(RawLine("RETURNONLY", invoice(), datetime.date(2024, 2, 1), Decimal("-15.00"), True))
    return raw


def load_sales(raw: list[RawLine]) -> analytics_models.ImportBatch:
    batch = factories.ImportBatchFactory()
    stores = {name: factories.StoreFactory(name=name) for name in STORES}
    categories = {name: factories.CategoryFactory(name=name) for name in CATEGORIES}
    payment = factories.PaymentMethodFactory()
    customers = {
        external_id: factories.CustomerFactory(external_id=external_id)
        for external_id in sorted({line.customer for line in raw})
    }
    lines = [
        factories.TransactionLineFactory.build(
            batch=batch,
            customer=customers[line.customer],
            store=stores[line.store],
            category=categories[line.category],
            payment_method=payment,
            invoice_no=line.invoice,
            date=line.date,
            quantity=-1 if line.is_return else 1,
            unit_price=line.net,
            gross_amount=line.net,
            net_amount=line.net,
            is_return=line.is_return,
        )
        for line in raw
    ]
    analytics_models.TransactionLine.objects.bulk_create(lines, batch_size=1000)
    warehouse_batch_add(batch_id=batch.pk)
    return batch


@dataclass(frozen=True)
class ExpectedRfm:
    recency_days: int
    frequency: int
    monetary: Decimal


def expected_rfm(raw: list[RawLine], *, as_of: datetime.date | None = None) -> dict[str, ExpectedRfm]:
    """R, F and M per customer, straight from the definitions, in plain Python."""
    if as_of is None:
        as_of = max(line.date for line in raw) + datetime.timedelta(days=1)
    last_purchase: dict[str, datetime.date] = {}
    invoices: dict[str, set[str]] = defaultdict(set)
    total: dict[str, Decimal] = defaultdict(Decimal)
    for line in raw:
        if line.date >= as_of:
            continue
        total[line.customer] += line.net
        if not line.is_return:
            invoices[line.customer].add(line.invoice)
            last_purchase[line.customer] = max(last_purchase.get(line.customer, line.date), line.date)
    return {
        customer: ExpectedRfm((as_of - last_purchase[customer]).days, len(invoices[customer]), total[customer])
        for customer in last_purchase
    }
