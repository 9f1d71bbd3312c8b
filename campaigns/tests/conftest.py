"""A small, hand-checkable history: an active segmentation run with two segments.

As-of date 2024-07-01; a 30-day horizon is 2024-06-01 .. 2024-06-30.

VIP (RFM "Champions"), 4 customers:
  V1: invoice V1-a 2024-06-15, two lines 60 + 40 = 100; invoice V1-b 2024-03-01, 50 (cost 30)
  V2: invoice V2-a 2024-06-20, 80 (cost 48); a return on 2024-06-21 (not a purchase)
  V3: invoice V3-a 2024-02-10, 70
  V4: invoice V4-a 2024-01-05, 100; invoice V4-b 2024-07-05, 500 (after the as-of date: ignored)
  -> order values 100, 50, 80, 70, 100: A = 80; bought in the window: V1, V2 -> b = 2/4 = 0.5;
     margin from cost = 1 - (30 + 48) / (50 + 80) = 0.4.
Dormant (RFM "Hibernating"), 2 customers:
  D1: invoice D1-a 2023-11-01, 20; D2: invoice D2-a 2023-12-01, 40 -> A = 30, b = 0, no cost (margin default).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Max

from analytics.models import TransactionLine
from analytics.tests.factories import CustomerFactory, StoreFactory, TransactionLineFactory
from analytics.warehouse import warehouse_rebuild
from segmentation.models import CustomerSegment, SegmentationRun
from segmentation.services.summaries import segmentation_run_summaries_save

AS_OF = datetime.date(2024, 7, 1)


def _line(customer: object, invoice: str, day: str, net: str, *, cost: str | None = None, quantity: int = 1) -> None:
    amount = Decimal(net)
    TransactionLineFactory(
        customer=customer,
        store=StoreFactory(name="Kanyon"),
        invoice_no=invoice,
        date=datetime.date.fromisoformat(day),
        quantity=quantity,
        unit_price=abs(amount) / abs(quantity),
        gross_amount=amount,
        net_amount=amount,
        cost=Decimal(cost) if cost is not None else None,
    )


def make_run(
    assignments: dict[object, tuple[str, str]], *, as_of: datetime.date = AS_OF, active: bool = True
) -> SegmentationRun:
    """A succeeded run assigning each customer its (K-Means segment, RFM segment), with its recency
    from the lines and the summaries a refit saves; clusters are numbered in order of first appearance."""
    warehouse_rebuild()  # the lines made by the factories, into the read model the summaries read
    names = list(dict.fromkeys(segment for segment, _ in assignments.values()))
    clusters = [
        {
            "cluster": number,
            "name": name,
            "customers": sum(segment == name for segment, _ in assignments.values()),
            "recency_days": 10.0,
            "frequency": 1.0,
            "monetary": 100.0,
            "active": True,
            "high_value": number == 0,
        }
        for number, name in enumerate(names)
    ]
    run = SegmentationRun.objects.create(
        status=SegmentationRun.Status.SUCCEEDED,
        is_active=active,
        as_of=as_of,
        customers=len(assignments),
        k=len(names),
        clusters=clusters,
    )
    last_purchase = dict(
        TransactionLine.objects.filter(is_return=False, date__lt=as_of)
        .values("customer_id")
        .annotate(last=Max("date"))
        .values_list("customer_id", "last")
    )
    CustomerSegment.objects.bulk_create(
        CustomerSegment(
            run=run,
            customer=customer,
            # A customer who never bought (a real run has none) never counts as a recent buyer.
            recency_days=(as_of - last_purchase[customer.pk]).days if customer.pk in last_purchase else 99_999,
            frequency=1,
            monetary=Decimal("1.00"),
            r_score=3,
            f_score=3,
            m_score=3,
            rfm_segment=rfm_segment,
            cluster=names.index(segment),
            segment=segment,
        )
        for customer, (segment, rfm_segment) in assignments.items()
    )
    segmentation_run_summaries_save(run_id=run.pk)
    return run


@pytest.fixture
def history(db: None) -> SegmentationRun:
    v1, v2, v3, v4 = (CustomerFactory(external_id=f"V{i}") for i in range(1, 5))
    d1, d2 = CustomerFactory(external_id="D1"), CustomerFactory(external_id="D2")
    _line(v1, "V1-a", "2024-06-15", "60.00")
    _line(v1, "V1-a", "2024-06-15", "40.00")
    _line(v1, "V1-b", "2024-03-01", "50.00", cost="30.00")
    _line(v2, "V2-a", "2024-06-20", "80.00", cost="48.00")
    _line(v2, "V2-r", "2024-06-21", "-20.00", quantity=-1)
    _line(v3, "V3-a", "2024-02-10", "70.00")
    _line(v4, "V4-a", "2024-01-05", "100.00")
    _line(v4, "V4-b", "2024-07-05", "500.00")
    _line(d1, "D1-a", "2023-11-01", "20.00")
    _line(d2, "D2-a", "2023-12-01", "40.00")
    vip, dormant = ("VIP", "Champions"), ("Dormant", "Hibernating")
    return make_run({v1: vip, v2: vip, v3: vip, v4: vip, d1: dormant, d2: dormant})
