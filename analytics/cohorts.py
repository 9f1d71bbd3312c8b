"""Cohort retention: customers grouped by the period of their first purchase, followed period by period.

Pure numpy on per-customer arrays (compressed sparse rows, one row per customer); no database.

Input, per customer i, the entries `offsets[i]:offsets[i + 1]` of `days`: the days on which the
customer has any line (day numbers since 2000-01-01, ascending; a day may come more than once, one
entry per transaction), each with `net_cents` (the net of the entry's lines, returns included, in
cents) and `purchase` (the entry holds a purchase, i.e. a line that is not a return). Plus the data's
first and last day (see `analytics.periods`: the span of the data set, not of the customers given).

Definitions, for a period kind (ISO week, month or quarter):
- A customer's **cohort** is the period of their first purchase day. Customers whose only lines are
  returns have no purchase and belong to no cohort (`customers_without_purchase` counts them). The
  first cohort also holds the customers who had bought before the data begins: the data cannot tell
  them from new ones.
- Cohort rows run over every period from the first day's period to the last day's, none skipped: a
  period in which nobody bought for the first time is a row with 0 customers and no values. Every
  row has as many values as there are periods in the table; k = 0 is the cohort's own period.
- **retention** k: the share of the cohort's customers with a purchase in period k (k = 0 is 1.0).
- **unbounded** k: the share with a purchase in period k or later (their last purchase is in k or
  after), so it never rises with k.
- **revenue** k: the net sales of the cohort's customers in period k (every line: returns subtract)
  divided by the cohort's size; **cumulative_revenue** k: the same summed over periods 0..k.
- Days before the cohort's period (a return, with no purchase, in an earlier period than the first
  purchase: the sale was made before the data begins) are left out of every cell; their net is
  reported as `net_before_cohort`, so that the cells still reconcile with the total net sales:
  sum over cohorts and k of revenue x customers + net_before_cohort = net of all customers with a
  purchase (up to the rounding of each cell). A return earlier in the cohort's own period than the
  first purchase counts in period 0, as every line of a period counts in that period.
- A cell whose period starts after the data's last day is `None`, never 0: nobody knows yet. A cell
  whose period the data covers only in part (the last period when the data ends inside it, or the
  first when the data starts inside it) has a value and its k is listed in `partial_periods`; its
  retention and revenue are understated, not a drop.
- Shares are rounded to 4 decimals and money per member to the cent (a Decimal), both half away from
  zero and exactly, from the integer counts and cents (the cumulative value from the cumulative
  cents, not from the rounded cells).

Speed: vectorised numpy over the days (period numbers through a lookup table, one `bincount` per
measure over the (cohort, k) cells, no Python loop over customers or days); 120,000 customers with
1,080,000 days take 30-45 ms on the shared 2-core machine, weeks the slowest (more cells to turn
into Python values): `pytest analytics/tests/test_cohorts.py -k 100_ms -s` prints the timings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from analytics.periods import (
    day_from_number,
    day_number,
    period_end,
    period_index,
    period_index_of,
    period_label,
    period_start,
    period_start_of_index,
)

CohortPeriod = Literal["week", "month", "quarter"]
COHORT_PERIODS: tuple[CohortPeriod, ...] = ("week", "month", "quarter")
CohortMetric = Literal["retention", "unbounded", "revenue", "cumulative_revenue"]
COHORT_METRICS: tuple[CohortMetric, ...] = ("retention", "unbounded", "revenue", "cumulative_revenue")
SHARE_DECIMALS = 4

IntArray = npt.NDArray[np.int64]
T = TypeVar("T")
# float64 adds integers exactly below 2**53 cents; bigger totals are summed in int64 instead.
_EXACT_FLOAT_CENTS = 2**53
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Cohort:
    """One cohort row; every tuple has one value per period k = 0, 1, ... of the table."""

    cohort: str  # the label of its first-purchase period: 1997-01, 1997-Q1, 1997-W02
    start: date
    end: date
    customers: int
    buyers: tuple[int | None, ...]  # customers with a purchase in period k
    retention: tuple[float | None, ...]
    unbounded: tuple[float | None, ...]
    revenue: tuple[Decimal | None, ...]  # net sales per member in period k
    cumulative_revenue: tuple[Decimal | None, ...]
    partial_periods: tuple[int, ...]  # the k whose period the data covers only in part

    def values(self, metric: CohortMetric) -> tuple[float | Decimal | None, ...]:
        if metric not in COHORT_METRICS:
            raise ValueError(f"Unknown cohort metric {metric!r}: one of {', '.join(COHORT_METRICS)}.")
        values: tuple[float | Decimal | None, ...] = getattr(self, metric)
        return values


@dataclass(frozen=True)
class CohortTable:
    period: CohortPeriod
    first_day: date
    last_day: date
    periods: int  # values per cohort (k = 0 .. periods - 1)
    cohorts: tuple[Cohort, ...]
    customers_without_purchase: int  # customers whose only lines are returns: in no cohort
    net_before_cohort: Decimal  # net of days in periods before the customer's cohort: in no cell


def _check_arrays(
    offsets: npt.NDArray[np.integer],
    days: npt.NDArray[np.integer],
    net_cents: npt.NDArray[np.integer],
    purchase: npt.NDArray[np.bool_],
) -> None:
    if offsets.ndim != 1 or offsets.size == 0 or offsets[0] != 0 or offsets[-1] != days.size:
        raise ValueError("offsets must start at 0 and end at the number of days, one more than the customers.")
    if np.any(np.diff(offsets) < 0):
        raise ValueError("offsets must not decrease.")
    if not (days.shape == net_cents.shape == purchase.shape) or days.ndim != 1:
        raise ValueError("days, net_cents and purchase must be 1-d arrays of the same length.")
    if purchase.dtype != np.bool_:
        raise ValueError("purchase must be a boolean array.")
    if days.size > 1:
        rising = np.diff(days) >= 0
        starts = offsets[1:-1]
        rising[starts[(starts > 0) & (starts < days.size)] - 1] = True  # the next customer starts afresh
        if not rising.all():
            raise ValueError("each customer's days must be in ascending order.")


def _divide_rounded(numerator: IntArray, denominator: IntArray) -> IntArray:
    """numerator / denominator rounded to an integer half away from zero, exactly (0 where it is 0)."""
    safe = np.maximum(denominator, 1)
    rounded = (2 * np.abs(numerator) + safe) // (2 * safe)
    return np.sign(numerator) * rounded


def _row(values: list[T], *, known: int, width: int, members: int) -> tuple[T | None, ...]:
    """A cohort's values: the known periods' (None for all when the cohort is empty), then None up to width."""
    head: list[T | None] = list(values[:known]) if members else [None] * known
    return (*head, *([None] * (width - known)))


def _cents(value: int) -> Decimal:
    return Decimal(value) * _CENT  # exact: an integer times 0.01 keeps two places


@dataclass(frozen=True)
class TableLayout:
    """The rows (cohorts row_low..row_low + rows - 1) and columns (k = 0..width - 1) of a table;
    `table_layout` makes it, `table_of_counts` fills it (here from the days, in
    `analytics.cohort_cells` from the cells)."""

    period: CohortPeriod
    first_date: date
    last_day: date
    first_p: int
    last_p: int
    row_low: int
    rows: int
    width: int


def table_layout(
    period: CohortPeriod, first_date: date, last_day: date, cohorts_from: date | None, cohorts_to: date | None
) -> TableLayout:
    first_p, last_p = period_index_of(first_date, period), period_index_of(last_day, period)
    row_low = first_p if cohorts_from is None else max(first_p, period_index_of(cohorts_from, period))
    row_high = last_p if cohorts_to is None else min(last_p, period_index_of(cohorts_to, period))
    return TableLayout(
        period=period,
        first_date=first_date,
        last_day=last_day,
        first_p=first_p,
        last_p=last_p,
        row_low=row_low,
        rows=max(row_high - row_low + 1, 0),
        width=max(last_p - row_low + 1, 0),  # the widest row's values
    )


def cohort_table(
    *,
    offsets: npt.ArrayLike,
    days: npt.ArrayLike,
    net_cents: npt.ArrayLike,
    purchase: npt.ArrayLike,
    last_day: date,
    first_day: date | None = None,
    period: CohortPeriod = "month",
    cohorts_from: date | None = None,
    cohorts_to: date | None = None,
) -> CohortTable:
    """The cohort table (see the module docstring).

    `first_day` defaults to the earliest day in `days`; `cohorts_from` / `cohorts_to` keep the cohort
    rows whose period overlaps that range (the columns still run to the last day). Raises ValueError
    on malformed arrays or a day outside first_day..last_day.
    """
    if period not in COHORT_PERIODS:
        raise ValueError(f"Unknown cohort period {period!r}: one of {', '.join(COHORT_PERIODS)}.")
    offsets_a = np.asarray(offsets, dtype=np.int64)
    days_a = np.asarray(days)
    if days_a.size and not np.issubdtype(days_a.dtype, np.integer):
        raise ValueError("days must be integer day numbers.")
    net_a = np.asarray(net_cents, dtype=np.int64)
    purchase_a = np.asarray(purchase)
    _check_arrays(offsets_a, days_a, net_a, purchase_a)
    customers = offsets_a.size - 1

    last = day_number(last_day)
    low_day = int(days_a.min()) if days_a.size else last
    first = day_number(first_day) if first_day is not None else low_day
    if first > last:
        raise ValueError(f"The first day ({first_day}) is after the last day ({last_day}).")
    if days_a.size and (low_day < first or int(days_a.max()) > last):
        raise ValueError("Some days lie outside the data's first and last day.")
    layout = table_layout(period, day_from_number(first), last_day, cohorts_from, cohorts_to)
    row_low, rows, width = layout.row_low, layout.rows, layout.width
    row_high = row_low + rows - 1
    cells = rows * width
    before_bin = cells  # the bin of days before the customer's cohort; cells past it are in no row

    # Cell (row r, period k) of the table is r * width + k: for a customer of cohort c (row c - row_low)
    # a day in period p falls in cell base + p, base = (c - row_low) * width - c. Periods do not
    # decrease along a customer's days, so the first purchase is in the cohort's period and the last
    # in the last period with a purchase. (np.take: a gather twice as fast as indexing here.)
    period_of_day = period_index(days_a, period)
    purchase_rows = np.flatnonzero(purchase_a)
    purchases_before = np.zeros(days_a.size + 1, dtype=np.int64)
    np.cumsum(purchase_a, out=purchases_before[1:])
    first_purchase = purchases_before[offsets_a[:-1]]  # per customer, an index into purchase_rows
    purchases = purchases_before[offsets_a[1:]] - first_purchase
    buyer = purchases > 0
    first_row = purchase_rows[first_purchase[buyer]]
    cohort_of = np.zeros(customers, dtype=np.int64)
    cohort_of[buyer] = period_of_day[first_row]
    last_k = np.zeros(customers, dtype=np.int64)
    last_k[buyer] = period_of_day[purchase_rows[first_purchase[buyer] + purchases[buyer] - 1]] - cohort_of[buyer]
    in_rows = buyer & (cohort_of >= row_low) & (cohort_of <= row_high)
    row_of = cohort_of - row_low  # meaningful where in_rows
    # Customers in no row get a base that puts each of their days past the table and its bin.
    base = np.where(in_rows, row_of * width - cohort_of, cells + 1 - int(period_of_day.min(initial=0)))
    day_cell = np.repeat(base, np.diff(offsets_a)) + period_of_day

    sizes = np.bincount(row_of[in_rows], minlength=rows)[:rows].astype(np.int64)

    # Retention: distinct (customer, period) among purchase days, counted by weighting each purchase
    # day with whether it is its customer's first in its period (faster than selecting them).
    cell = np.take(day_cell, purchase_rows)
    distinct = np.zeros(purchase_rows.size, dtype=bool)
    distinct[first_purchase[buyer]] = True
    distinct[1:] |= cell[1:] != cell[:-1]
    bought = np.rint(np.bincount(cell, weights=distinct, minlength=cells)[:cells]).astype(np.int64)
    bought = bought.reshape(rows, width)

    # Unbounded: customers whose last purchase is in period k or later.
    last_cell = row_of[in_rows] * width + last_k[in_rows]
    last_counts = np.bincount(last_cell, minlength=cells).reshape(rows, width)

    # Revenue: every day of the cohort's customers from the cohort's period on. Days before the
    # first purchase (returns only) are a prefix of the customer's days; those in an earlier period
    # than the cohort's go to their own bin.
    lead = np.zeros(customers, dtype=np.int64)
    lead[in_rows] = purchase_rows[first_purchase[in_rows]] - offsets_a[:-1][in_rows]
    if lead.any():
        lead_rows = np.repeat(offsets_a[:-1] - np.cumsum(lead) + lead, lead) + np.arange(int(lead.sum()))
        lead_cohort = np.repeat(cohort_of, lead)
        day_cell[lead_rows[period_of_day[lead_rows] < lead_cohort]] = before_bin
    bound = max(-int(net_a.min(initial=0)), int(net_a.max(initial=0))) * max(net_a.size, 1)
    if bound < _EXACT_FLOAT_CENTS:
        sums = np.rint(np.bincount(day_cell, weights=net_a, minlength=cells + 1)).astype(np.int64)
    else:
        sums = np.zeros(int(day_cell.max(initial=cells)) + 1, dtype=np.int64)
        np.add.at(sums, day_cell, net_a)
    revenue = sums[:cells].reshape(rows, width)
    net_before = int(sums[before_bin])
    return table_of_counts(
        layout,
        sizes=sizes,
        bought=bought,
        last_counts=last_counts,
        revenue=revenue,
        net_before=net_before,
        customers_without_purchase=int(customers - np.count_nonzero(buyer)),
    )


def table_of_counts(
    layout: TableLayout,
    *,
    sizes: IntArray,
    bought: IntArray,
    last_counts: IntArray,
    revenue: IntArray,
    net_before: int,
    customers_without_purchase: int,
) -> CohortTable:
    """The table from its counts per (row, k): shares and money per member, None past the last day."""
    period, first_date, last_day = layout.period, layout.first_date, layout.last_day
    first_p, last_p, row_low, rows, width = layout.first_p, layout.last_p, layout.row_low, layout.rows, layout.width
    still = np.cumsum(last_counts[:, ::-1], axis=1)[:, ::-1]
    cumulative = np.cumsum(revenue, axis=1)

    members = sizes[:, None]
    scale = 10**SHARE_DECIMALS
    retention = _divide_rounded(bought * scale, members) / scale
    unbounded = _divide_rounded(still * scale, members) / scale
    revenue_per = _divide_rounded(revenue, members)
    cumulative_per = _divide_rounded(cumulative, members)

    first_partial = first_date != period_start(first_date, period)
    last_partial = last_day != period_end(last_day, period)
    table = []
    for r in range(rows):
        p = row_low + r
        start = period_start_of_index(p, period)
        known = last_p - p + 1  # the row's periods up to the last day; the rest are unknown
        size = int(sizes[r])

        shape = {"known": known, "width": width, "members": size}
        partial = {known - 1} if last_partial else set()
        if first_partial and p == first_p:
            partial.add(0)
        table.append(
            Cohort(
                cohort=period_label(start, period),
                start=start,
                end=period_end(start, period),
                customers=size,
                buyers=_row(bought[r].tolist(), known=known, width=width, members=1),
                retention=_row(retention[r].tolist(), **shape),
                unbounded=_row(unbounded[r].tolist(), **shape),
                revenue=_row([_cents(v) for v in revenue_per[r, :known].tolist()], **shape),
                cumulative_revenue=_row([_cents(v) for v in cumulative_per[r, :known].tolist()], **shape),
                partial_periods=tuple(sorted(partial)),
            )
        )
    return CohortTable(
        period=period,
        first_day=first_date,
        last_day=last_day,
        periods=width if rows else 0,
        cohorts=tuple(table),
        customers_without_purchase=customers_without_purchase,
        net_before_cohort=_cents(net_before),
    )
