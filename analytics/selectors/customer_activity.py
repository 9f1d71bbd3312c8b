"""Per-customer activity read straight from the transaction lines, in one GROUP BY: recency,
frequency and monetary value (the inputs of the customer segmentation)."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection
from psycopg import sql

from analytics.models import TransactionLine

_EPOCH = datetime.date(2000, 1, 1)

RFM_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary_cents", "monetary")


@dataclass(frozen=True)
class CustomerRfm:
    """`frame` has one row per customer with at least one purchase before `as_of`, ordered by customer
    pk: customer_id (pk), recency_days, frequency, monetary_cents (exact, int64) and monetary (float).
    `as_of` is None when there are no lines at all."""

    as_of: datetime.date | None
    frame: pd.DataFrame
    customers_without_purchase: int  # customers whose only lines before as_of are returns
    as_of_given: bool


def customer_rfm_frame(*, as_of: datetime.date | None = None) -> CustomerRfm:
    """Recency, frequency and monetary value per customer, computed by PostgreSQL in one pass.

    - as-of: the day after the last line (purchase or return) unless given; when given, only lines
      dated before it count;
    - recency: days from the customer's last purchase (a line that is not a return) to as-of;
    - frequency: distinct invoices among the customer's purchase lines;
    - monetary: the sum of the net amounts of all the customer's lines, returns (negative) included.
    """
    table = sql.Identifier(TransactionLine._meta.db_table)
    where = sql.SQL("WHERE date < {}").format(sql.Literal(as_of)) if as_of else sql.SQL("")
    query = sql.SQL(
        "COPY (SELECT customer_id,"
        " (max(date) FILTER (WHERE NOT is_return)) - {epoch} AS last_purchase_day,"
        " max(date) - {epoch} AS last_line_day,"
        " count(DISTINCT invoice_no) FILTER (WHERE NOT is_return) AS frequency,"
        " (sum(net_amount) * 100)::bigint AS monetary_cents"
        " FROM {table} {where} GROUP BY customer_id ORDER BY customer_id) TO STDOUT WITH (FORMAT csv)"
    ).format(epoch=sql.Literal(_EPOCH), table=table, where=where)

    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        # The distinct-invoice count sorts every line; give the sort room to stay in memory.
        if connection.in_atomic_block:
            cursor.execute("SET LOCAL work_mem = '256MB'")
        with cursor.cursor.copy(query) as copy:
            for block in copy:
                buffer.write(block)
    buffer.seek(0)
    raw = pd.read_csv(
        buffer,
        names=["customer_id", "last_purchase_day", "last_line_day", "frequency", "monetary_cents"],
        dtype={"customer_id": np.int64, "last_purchase_day": "Int64", "last_line_day": np.int64},
    )
    if raw.empty:
        return CustomerRfm(as_of=as_of, frame=_empty_frame(), customers_without_purchase=0, as_of_given=bool(as_of))

    resolved_as_of = as_of or _EPOCH + datetime.timedelta(days=int(raw["last_line_day"].max()) + 1)
    as_of_day = (resolved_as_of - _EPOCH).days
    bought = raw["last_purchase_day"].notna()
    purchasers = raw[bought]
    frame = pd.DataFrame(
        {
            "customer_id": purchasers["customer_id"].to_numpy(np.int64),
            "recency_days": (as_of_day - purchasers["last_purchase_day"]).to_numpy(np.int64),
            "frequency": purchasers["frequency"].to_numpy(np.int64),
            "monetary_cents": purchasers["monetary_cents"].to_numpy(np.int64),
        }
    )
    frame["monetary"] = frame["monetary_cents"] / 100.0
    return CustomerRfm(
        as_of=resolved_as_of,
        frame=frame,
        customers_without_purchase=int((~bought).sum()),
        as_of_given=bool(as_of),
    )


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=np.float64 if name == "monetary" else np.int64) for name in RFM_COLUMNS})
