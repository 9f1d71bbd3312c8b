"""Per-customer reads: every customer's summary and transaction history as numpy arrays, for the
segmentation refit, customer value and cohorts (money per customer and category, and cost figures,
are in `analytics.warehouse.customer_amounts`). Read from `CustomerSummary` (one row per customer)
and `SalesTransaction`, never from the lines.

Days are numbers of days since 2000-01-01 (`EPOCH`), money is in integer cents.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from retail_platform.postgresql.cursors import binary_results_cursor

EPOCH = datetime.date(2000, 1, 1)
# Stands for "no purchase" in a day column (a day 5.8 million years before 2000).
NO_PURCHASE = int(np.iinfo(np.int32).min)

# One record per customer, as PostgreSQL's int4send/int8send write them (big-endian).
_CUSTOMER_RECORD = np.dtype(
    [
        ("customer_id", ">i8"),
        ("transactions", ">i4"),
        ("purchase_transactions", ">i4"),
        ("first_purchase_day", ">i4"),
        ("last_purchase_day", ">i4"),
        ("last_day", ">i4"),
        ("net_cents", ">i8"),
        ("cost_lines", ">i4"),
        ("cost_cents", ">i8"),
        ("net_with_cost_cents", ">i8"),
        ("first_store_id", ">i8"),
    ]
)
# One record per transaction: CustomerSummary.history.
HISTORY_RECORD = np.dtype([("day", ">i4"), ("net_cents", ">i8"), ("purchase_cents", ">i8"), ("purchase_lines", ">i4")])

_DAY = "({column} - DATE '2000-01-01')"


@dataclass(frozen=True)
class CustomerHistories:
    """Customers in pk order, each with figures of their whole history and their transactions.

    Transactions of customer i are `offsets[i]:offsets[i + 1]` of the transaction arrays, in (day,
    store, invoice) order; returns-only transactions are included (purchase_lines 0). Purchase days
    are NO_PURCHASE for a customer with no purchase.
    """

    customer_ids: npt.NDArray[np.int64] = field(repr=False)
    purchase_transactions: npt.NDArray[np.int64] = field(repr=False)
    first_purchase_day: npt.NDArray[np.int64] = field(repr=False)
    last_purchase_day: npt.NDArray[np.int64] = field(repr=False)
    net_cents: npt.NDArray[np.int64] = field(repr=False)
    # Over the purchase lines carrying a cost: how many, their cost and their net amount.
    cost_lines: npt.NDArray[np.int64] = field(repr=False)
    cost_cents: npt.NDArray[np.int64] = field(repr=False)
    net_with_cost_cents: npt.NDArray[np.int64] = field(repr=False)
    first_store_ids: npt.NDArray[np.int64] = field(repr=False)
    offsets: npt.NDArray[np.int64] = field(repr=False)
    days: npt.NDArray[np.int64] = field(repr=False)
    transaction_net_cents: npt.NDArray[np.int64] = field(repr=False)
    purchase_cents: npt.NDArray[np.int64] = field(repr=False)
    purchase_lines: npt.NDArray[np.int64] = field(repr=False)
    # The last day with any line of these customers; None without customers.
    last_day: int | None

    def __len__(self) -> int:
        return len(self.customer_ids)

    @property
    def transaction_customer(self) -> npt.NDArray[np.int64]:
        """The customer position (0..len-1) of every transaction."""
        return np.repeat(np.arange(len(self.customer_ids), dtype=np.int64), np.diff(self.offsets))


def day_number(day: datetime.date) -> int:
    return (day - EPOCH).days


def day_date(number: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(number))


@dataclass(frozen=True)
class CustomerTransactions:
    """Customers in no particular order, each with their transactions only: those of customer i are
    `offsets[i]:offsets[i + 1]`, in (day, store, invoice) order; returns-only ones have purchase_lines 0."""

    offsets: npt.NDArray[np.int64] = field(repr=False)
    days: npt.NDArray[np.int64] = field(repr=False)
    net_cents: npt.NDArray[np.int64] = field(repr=False)
    purchase_lines: npt.NDArray[np.int64] = field(repr=False)
    first_store_ids: npt.NDArray[np.int64] = field(repr=False)  # per customer; 0 without a purchase


def _first_purchase_where(
    first_store_ids: tuple[int, ...],
    first_category_ids: tuple[int, ...],
    first_purchase_from: datetime.date | None = None,
    first_purchase_to: datetime.date | None = None,
) -> tuple[str, list]:
    clauses: list[str] = []
    params: list[Any] = []
    if first_purchase_from:
        clauses.append("(first_purchase_date IS NULL OR first_purchase_date >= %s)")
        params.append(first_purchase_from)
    if first_purchase_to:
        clauses.append("(first_purchase_date IS NULL OR first_purchase_date <= %s)")
        params.append(first_purchase_to)
    if first_store_ids:
        clauses.append("first_store_id = ANY(%s)")
        params.append(list(first_store_ids))
    if first_category_ids:
        clauses.append("first_category_ids && %s::bigint[]")
        params.append(list(first_category_ids))
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def customer_transactions_get(
    *,
    first_store_ids: tuple[int, ...] = (),
    first_category_ids: tuple[int, ...] = (),
    first_purchase_from: datetime.date | None = None,
    first_purchase_to: datetime.date | None = None,
    touched: tuple[str, ...] = (),
) -> CustomerTransactions:
    """Every customer's transactions (filtered as customer_histories_get, and to the customers whose
    first purchase falls between `first_purchase_from` and `first_purchase_to` or who have none),
    without the summaries' figures and in no customer order: half the cost of the histories, for
    readers that need no more (cohorts). With `touched`, only the customers the running change of
    the read model touches in those ways (`analytics_wh_customers.how`)."""
    where, params = _first_purchase_where(first_store_ids, first_category_ids, first_purchase_from, first_purchase_to)
    if touched:
        where = f"{where} {'AND' if where else 'WHERE'} customer_id IN"
        where += " (SELECT customer_id FROM analytics_wh_customers WHERE how = ANY(%s))"
        params.append(list(touched))
    with binary_results_cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # No ORDER BY (no sort, and the scan can run in parallel): the aggregates of the one node take
        # the rows in the same order, so the i-th record belongs to the i-th history.
        cursor.execute(
            "SELECT string_agg(int4send(transactions) || int8send(coalesce(first_store_id, 0)), ''::bytea),"
            f" string_agg(history, ''::bytea) FROM analytics_customersummary {where}",
            params,
        )
        packed_customers, packed_history = cursor.fetchone()
    customers = np.frombuffer(bytes(packed_customers or b""), dtype=[("transactions", ">i4"), ("store", ">i8")])
    history = np.frombuffer(bytes(packed_history or b""), dtype=HISTORY_RECORD)
    offsets = np.zeros(len(customers) + 1, dtype=np.int64)
    np.cumsum(customers["transactions"].astype(np.int64), out=offsets[1:])
    return CustomerTransactions(
        offsets=offsets,
        days=history["day"].astype(np.int64),
        net_cents=history["net_cents"].astype(np.int64),
        purchase_lines=history["purchase_lines"].astype(np.int64),
        first_store_ids=customers["store"].astype(np.int64),
    )


def customer_histories_get(
    *, first_store_ids: tuple[int, ...] = (), first_category_ids: tuple[int, ...] = ()
) -> CustomerHistories:
    """Every customer's summary and transactions; with `first_store_ids` / `first_category_ids`, only
    the customers whose first purchase was in one of those stores / held one of those categories."""
    where, params = _first_purchase_where(first_store_ids, first_category_ids)
    no = f"{NO_PURCHASE}"
    sql = (
        "SELECT string_agg(int8send(customer_id) || int4send(transactions) || int4send(purchase_transactions)"
        f" || int4send(coalesce({_DAY.format(column='first_purchase_date')}, {no}))"
        f" || int4send(coalesce({_DAY.format(column='last_purchase_date')}, {no}))"
        f" || int4send({_DAY.format(column='last_date')}) || int8send((net * 100)::int8) || int4send(cost_lines)"
        " || int8send(coalesce(cost * 100, 0)::int8) || int8send(coalesce(net_with_cost * 100, 0)::int8)"
        " || int8send(coalesce(first_store_id, 0)), ''::bytea ORDER BY customer_id),"
        " string_agg(history, ''::bytea ORDER BY customer_id)"
        f" FROM analytics_customersummary {where}"
    )
    with binary_results_cursor() as cursor:  # 24 bytes a transaction: megabytes, not hex text
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)
        packed_customers, packed_history = cursor.fetchone()
    records = np.frombuffer(bytes(packed_customers or b""), dtype=_CUSTOMER_RECORD)
    history = np.frombuffer(bytes(packed_history or b""), dtype=HISTORY_RECORD)
    counts = records["transactions"].astype(np.int64)
    offsets = np.zeros(len(records) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return CustomerHistories(
        customer_ids=records["customer_id"].astype(np.int64),
        purchase_transactions=records["purchase_transactions"].astype(np.int64),
        first_purchase_day=records["first_purchase_day"].astype(np.int64),
        last_purchase_day=records["last_purchase_day"].astype(np.int64),
        net_cents=records["net_cents"].astype(np.int64),
        cost_lines=records["cost_lines"].astype(np.int64),
        cost_cents=records["cost_cents"].astype(np.int64),
        net_with_cost_cents=records["net_with_cost_cents"].astype(np.int64),
        first_store_ids=records["first_store_id"].astype(np.int64),
        offsets=offsets,
        days=history["day"].astype(np.int64),
        transaction_net_cents=history["net_cents"].astype(np.int64),
        purchase_cents=history["purchase_cents"].astype(np.int64),
        purchase_lines=history["purchase_lines"].astype(np.int64),
        last_day=int(records["last_day"].max()) if len(records) else None,
    )
