"""customer_activity on a hand-checkable history, read from the read model.

A (first customer): invoice A-1 2024-03-01, two lines 30.00 + 12.50 = 42.50;
                    invoice A-2 2024-01-10, 20.00 and a return of 5.00 on the same invoice;
                    invoice A-3 2024-05-01, one line of 0.00 (a purchase, but of no value).
B: only a return (2024-01-05, -8.00): no purchase.
C: invoice C-1 2024-06-01, 15.00; invoice C-2 2024-07-15, 99.00.

Without a date the as-of is 2024-07-16. A: recency 76 days, 3 purchases, net 57.50, purchase values
20.00 (A-2, the earlier; its return is not part of the purchase) then 42.50 (A-1); A-3 is worth
nothing.
C: recency 1, 2 purchases, net 114.00, values 15.00, 99.00. As of 2024-07-01, C-2 is left out.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from analytics.tests.factories import CustomerFactory, StoreFactory, TransactionLineFactory
from analytics.warehouse import customer_histories_get, warehouse_rebuild
from segmentation.activity import CustomerActivity, customer_activity

pytestmark = pytest.mark.django_db


def _line(customer: object, invoice: str, day: str, net: str) -> None:
    amount = Decimal(net)
    quantity = -1 if amount < 0 else 1
    TransactionLineFactory(
        customer=customer,
        store=StoreFactory(name="Kanyon"),
        invoice_no=invoice,
        date=datetime.date.fromisoformat(day),
        quantity=quantity,
        unit_price=abs(amount),
        gross_amount=amount,
        net_amount=amount,
    )


@pytest.fixture
def customers() -> dict[str, int]:
    a, b, c = (CustomerFactory(external_id=name) for name in ("A", "B", "C"))
    _line(a, "A-1", "2024-03-01", "30.00")
    _line(a, "A-1", "2024-03-01", "12.50")
    _line(a, "A-2", "2024-01-10", "20.00")
    _line(a, "A-2", "2024-01-10", "-5.00")
    _line(a, "A-3", "2024-05-01", "0.00")
    _line(b, "B-1", "2024-01-05", "-8.00")
    _line(c, "C-1", "2024-06-01", "15.00")
    _line(c, "C-2", "2024-07-15", "99.00")
    warehouse_rebuild()
    return {"A": a.pk, "B": b.pk, "C": c.pk}


def activity_as_of(*, as_of: datetime.date | None = None) -> CustomerActivity:
    return customer_activity(customer_histories_get(), as_of=as_of)


def test_rfm_and_purchase_values_come_from_the_customer_histories(customers: dict[str, int]) -> None:
    activity = activity_as_of()

    assert activity.as_of == datetime.date(2024, 7, 16) and not activity.as_of_given
    assert activity.customers_without_purchase == 1
    assert activity.frame[["customer_id", "recency_days", "frequency", "monetary_cents"]].values.tolist() == [
        [customers["A"], 76, 3, 5750],
        [customers["C"], 1, 2, 11400],
    ]
    # Customers in pk order, each one's purchases by day (A-2 before A-1).
    assert activity.purchases.customer_ids.tolist() == [customers["A"], customers["A"], customers["C"], customers["C"]]
    assert activity.purchases.values.tolist() == [20.0, 42.5, 15.0, 99.0]


def test_an_as_of_date_leaves_later_purchases_out(customers: dict[str, int]) -> None:
    activity = activity_as_of(as_of=datetime.date(2024, 7, 1))

    assert activity.as_of == datetime.date(2024, 7, 1) and activity.as_of_given
    assert activity.frame[["customer_id", "recency_days", "frequency", "monetary_cents"]].values.tolist() == [
        [customers["A"], 61, 3, 5750],
        [customers["C"], 30, 1, 1500],
    ]
    assert activity.purchases.customer_ids.tolist() == [customers["A"], customers["A"], customers["C"]]
    assert activity.purchases.values.tolist() == [20.0, 42.5, 15.0]


def test_before_any_purchase_the_frame_is_empty_and_counts_who_only_returned(customers: dict[str, int]) -> None:
    nothing = activity_as_of(as_of=datetime.date(2024, 1, 1))  # no line at all before it
    assert nothing.as_of == datetime.date(2024, 1, 1) and nothing.frame.empty
    assert nothing.customers_without_purchase == 0 and nothing.purchases.values.size == 0

    only_returns = activity_as_of(as_of=datetime.date(2024, 1, 6))
    assert only_returns.as_of == datetime.date(2024, 1, 6) and only_returns.frame.empty
    assert only_returns.customers_without_purchase == 1
    assert only_returns.purchases.customer_ids.size == only_returns.purchases.values.size == 0
