"""Recency, frequency and monetary value per customer, and the value of each purchase, from the read
model's customer histories (pure: arrays in, a frozen result out; no database).

- as-of: the day after the last line (purchase or return) unless given; when given, only
  transactions dated before it count;
- recency: days from the customer's last purchase (a transaction holding a line that is not a
  return) to as-of;
- frequency: the customer's purchases, that is transactions (invoice x day x store) holding a
  purchase line;
- monetary: the net amount of all the customer's lines, returns (negative) included;
- purchases: the net value of each purchase's purchase lines, when above zero (what the simulator
  draws order values from), by customer then in (day, store, invoice) order.

Customers whose lines before as-of are all returns have no purchase and are counted apart.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from analytics.warehouse import CustomerHistories, day_date, day_number
from segmentation.clv import PurchaseDays

if TYPE_CHECKING:
    import pandas as pd

RFM_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary_cents", "monetary")


@dataclass(frozen=True)
class CustomerPurchases:
    """The net value (float) of every purchase above zero before as-of, by customer pk then in (day,
    store, invoice) order; `customer_ids` is aligned with `values`."""

    customer_ids: npt.NDArray[np.int64] = field(repr=False)
    values: npt.NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class CustomerActivity:
    """`frame` has one row per customer with at least one purchase before `as_of`, in pk order:
    customer_id (pk), recency_days, frequency, monetary_cents (exact, int64) and monetary (float).
    `as_of` is None when there are no lines at all."""

    as_of: datetime.date | None
    frame: pd.DataFrame
    customers_without_purchase: int
    as_of_given: bool
    purchases: CustomerPurchases
    # Whether every transaction of the histories is before as_of (the summaries' own totals apply).
    whole_history: bool


def customer_activity(histories: CustomerHistories, *, as_of: datetime.date | None = None) -> CustomerActivity:
    """R, F and M per customer and every purchase's value, before `as_of` (see the module docstring)."""
    import pandas as pd

    if histories.last_day is None:
        return CustomerActivity(
            as_of=as_of,
            frame=_empty_frame(),
            customers_without_purchase=0,
            as_of_given=as_of is not None,
            purchases=CustomerPurchases(customer_ids=np.zeros(0, np.int64), values=np.zeros(0, np.float64)),
            whole_history=True,
        )
    resolved = as_of or day_date(histories.last_day + 1)
    as_of_day = day_number(resolved)
    customer = histories.transaction_customer
    before = histories.days < as_of_day
    purchase = before & (histories.purchase_lines > 0)
    count = len(histories)
    frequency = np.bincount(customer[purchase], minlength=count).astype(np.int64)
    has_lines = np.bincount(customer[before], minlength=count) > 0
    monetary = np.zeros(count, dtype=np.int64)
    np.add.at(monetary, customer[before], histories.transaction_net_cents[before])
    last_purchase = np.full(count, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_purchase, customer[purchase], histories.days[purchase])
    bought = frequency > 0
    frame = pd.DataFrame(
        {
            "customer_id": histories.customer_ids[bought],
            "recency_days": as_of_day - last_purchase[bought],
            "frequency": frequency[bought],
            "monetary_cents": monetary[bought],
        }
    )
    frame["monetary"] = frame["monetary_cents"] / 100.0
    valued = purchase & (histories.purchase_cents > 0)
    return CustomerActivity(
        as_of=resolved,
        frame=frame,
        customers_without_purchase=int((has_lines & ~bought).sum()),
        as_of_given=as_of is not None,
        purchases=CustomerPurchases(
            customer_ids=histories.customer_ids[customer[valued]],
            values=histories.purchase_cents[valued] / 100.0,
        ),
        whole_history=bool(before.all()),
    )


def _empty_frame() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype=np.float64 if name == "monetary" else np.int64) for name in RFM_COLUMNS})


@dataclass(frozen=True)
class CustomerPurchaseDays:
    """Per customer of the histories (same rows), the distinct days with a purchase before as-of and
    the net value of each day's purchase lines: the customer-value models' input."""

    customer_ids: npt.NDArray[np.int64] = field(repr=False)
    days: PurchaseDays


def purchase_days(histories: CustomerHistories, *, as_of: datetime.date) -> CustomerPurchaseDays:
    """Transactions holding a purchase before `as_of`, merged per customer and day (same-day purchases
    are one purchase, as the models count them)."""
    customer = histories.transaction_customer
    bought = (histories.purchase_lines > 0) & (histories.days < day_number(as_of))
    owners, days, cents = customer[bought], histories.days[bought], histories.purchase_cents[bought]
    # Transactions are in day order within each customer: a new (customer, day) starts a purchase day.
    starts = np.flatnonzero(np.concatenate(([True], (owners[1:] != owners[:-1]) | (days[1:] != days[:-1]))))
    values = np.add.reduceat(cents, starts) / 100.0 if len(starts) else np.zeros(0, dtype=np.float64)
    offsets = np.searchsorted(owners[starts], np.arange(len(histories) + 1)).astype(np.int64)
    return CustomerPurchaseDays(
        customer_ids=histories.customer_ids,
        days=PurchaseDays.from_arrays(offsets, days[starts].astype(np.int32), values.astype(np.float64)),
    )


def typical_gap_days(purchases: PurchaseDays) -> float | None:
    """The median, over customers with two purchase days or more, of the mean days between their
    purchases; None without such customers."""
    counts = np.diff(purchases.offsets)
    repeat = counts >= 2
    if not repeat.any():
        return None
    first = purchases.days[purchases.offsets[:-1][repeat]].astype(np.float64)
    last = purchases.days[purchases.offsets[1:][repeat] - 1].astype(np.float64)
    return float(np.median((last - first) / (counts[repeat] - 1)))
