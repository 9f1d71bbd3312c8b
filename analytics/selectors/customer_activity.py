"""Per-customer activity read straight from the transaction lines, in one pass: recency, frequency and
monetary value (the inputs of the customer segmentation), and the net value of each purchase."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from analytics.models import TransactionLine

if TYPE_CHECKING:
    import pandas as pd

# pandas is imported once the query has answered: the refit loads it, with scikit-learn, on a thread
# while PostgreSQL works (importing it takes a quarter of a second of CPU).

_EPOCH = datetime.date(2000, 1, 1)
# Stands for "no purchase" in the day of the last purchase (a day 5.8 million years before 2000).
_NO_PURCHASE = np.iinfo(np.int32).min

RFM_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary_cents", "monetary")

# One 32-byte record per customer, as PostgreSQL's int8send/int4send write them (big-endian).
_CUSTOMER_RECORD = np.dtype(
    [
        ("customer_id", ">i8"),
        ("last_purchase_day", ">i4"),
        ("last_line_day", ">i4"),
        ("frequency", ">i4"),
        ("monetary_cents", ">i8"),
        ("purchases", ">i4"),
    ]
)


@dataclass(frozen=True)
class CustomerPurchases:
    """The net value (as float8) of every purchase above zero: one invoice's purchase lines before the
    as-of date. Ordered by customer pk, then invoice number; `customer_ids` is aligned with `values`."""

    customer_ids: npt.NDArray[np.int64] = field(repr=False)
    values: npt.NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class CustomerRfm:
    """`frame` has one row per customer with at least one purchase before `as_of`, ordered by customer
    pk: customer_id (pk), recency_days, frequency, monetary_cents (exact, int64) and monetary (float).
    `as_of` is None when there are no lines at all."""

    as_of: datetime.date | None
    frame: pd.DataFrame
    customers_without_purchase: int  # customers whose only lines before as_of are returns
    as_of_given: bool
    purchases: CustomerPurchases


def _activity_sql(as_of: datetime.date | None) -> tuple[str, list[Any]]:
    """The lines grouped by customer and invoice (sorted, so the same sort serves both levels), then by
    customer; the answer is one row of two packed byte strings: a `_CUSTOMER_RECORD` per customer, and
    each customer's purchase values (float8, by invoice number), customers in pk order."""
    where, params = ("WHERE date < %s", [as_of]) if as_of else ("", [])
    epoch = f"DATE '{_EPOCH.isoformat()}'"
    query = (
        f"SELECT string_agg(int8send(customer_id) || int4send(coalesce(last_purchase_day, {_NO_PURCHASE}))"
        " || int4send(last_line_day) || int4send(frequency::int4) || int8send(monetary_cents)"
        " || int4send(purchases::int4), ''::bytea ORDER BY customer_id),"
        " string_agg(purchase_values, ''::bytea ORDER BY customer_id)"
        " FROM (SELECT customer_id,"
        f" max(last_purchase) - {epoch} AS last_purchase_day,"
        f" max(last_line) - {epoch} AS last_line_day,"
        " count(purchase_net) AS frequency,"
        " (sum(net) * 100)::bigint AS monetary_cents,"
        " count(*) FILTER (WHERE purchase_net > 0) AS purchases,"
        # A CASE, not a FILTER: with a FILTER, PostgreSQL 18 sorted each customer's invoices again for
        # the ORDER BY (0.15 s of CPU at 1M lines); this way it takes them as the sort below left them.
        " string_agg(CASE WHEN purchase_net > 0 THEN float8send(purchase_net::float8) END,"
        " ''::bytea ORDER BY invoice_no) AS purchase_values"
        " FROM (SELECT customer_id, invoice_no,"
        " max(date) FILTER (WHERE NOT is_return) AS last_purchase,"
        " max(date) AS last_line,"
        " sum(net_amount) AS net,"
        " sum(net_amount) FILTER (WHERE NOT is_return) AS purchase_net"
        f" FROM {TransactionLine._meta.db_table} {where} GROUP BY customer_id, invoice_no) AS invoices"
        " GROUP BY customer_id) AS customers"
    )
    return query, params


def customer_rfm_frame(*, as_of: datetime.date | None = None) -> CustomerRfm:
    """Recency, frequency and monetary value per customer, and the value of each purchase, computed by
    PostgreSQL in one pass over the lines.

    - as-of: the day after the last line (purchase or return) unless given; when given, only lines
      dated before it count;
    - recency: days from the customer's last purchase (a line that is not a return) to as-of;
    - frequency: distinct invoices among the customer's purchase lines;
    - monetary: the sum of the net amounts of all the customer's lines, returns (negative) included;
    - purchases: per invoice with a purchase line, the net amount of its purchase lines, when above zero.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # One sort of the lines by (customer, invoice) feeds both groupings and the ordered aggregates.
        # The planner cannot see that a customer has several invoices and would hash the invoices
        # instead (twice the time); the sort needs room to stay in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL enable_hashagg = off")
        cursor.execute(*_activity_sql(as_of))
        packed_customers, packed_values = cursor.fetchone()
        cursor.execute("RESET enable_hashagg")
    import pandas as pd

    records = np.frombuffer(bytes(packed_customers or b""), dtype=_CUSTOMER_RECORD)
    values = np.frombuffer(bytes(packed_values or b""), dtype=">f8").astype(np.float64)
    if not len(records):
        return CustomerRfm(
            as_of=as_of,
            frame=_empty_frame(),
            customers_without_purchase=0,
            as_of_given=bool(as_of),
            purchases=CustomerPurchases(customer_ids=np.zeros(0, np.int64), values=values),
        )

    customer_ids = records["customer_id"].astype(np.int64)
    resolved_as_of = as_of or _EPOCH + datetime.timedelta(days=int(records["last_line_day"].max()) + 1)
    as_of_day = (resolved_as_of - _EPOCH).days
    last_purchase_day = records["last_purchase_day"].astype(np.int64)
    bought = last_purchase_day != _NO_PURCHASE
    frame = pd.DataFrame(
        {
            "customer_id": customer_ids[bought],
            "recency_days": as_of_day - last_purchase_day[bought],
            "frequency": records["frequency"][bought].astype(np.int64),
            "monetary_cents": records["monetary_cents"][bought].astype(np.int64),
        }
    )
    frame["monetary"] = frame["monetary_cents"] / 100.0
    return CustomerRfm(
        as_of=resolved_as_of,
        frame=frame,
        customers_without_purchase=int((~bought).sum()),
        as_of_given=bool(as_of),
        purchases=CustomerPurchases(
            customer_ids=np.repeat(customer_ids, records["purchases"].astype(np.int64)), values=values
        ),
    )


def _empty_frame() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype=np.float64 if name == "monetary" else np.int64) for name in RFM_COLUMNS})
