"""Cohort cells: the counts a cohort table is made of, per group of customers, counted from the
customers' transactions, and the table made from them. Pure numpy; no database.

Input as `analytics.cohorts.cohort_table` takes it (per customer, their entries in day order: day,
net in cents, whether it holds a purchase), plus each customer's group (the read model groups by
the store of the first purchase). Output, one entry per group, cohort and period with entries of the
group's customers of that cohort (`CohortCells`): the customers with a purchase in the period
(`buyers`), those whose last purchase is in it (`lasts`), the net of their entries in it
(`net_cents`); a period before the cohort's holds the net of returns dated before the first purchase.
Customers without a purchase are in no cell. Cells of disjoint sets of customers add up, so the read
model keeps them per group and moves them by the customers an import touches; summed over groups
they give `cohort_table_from_cells` the table `analytics.cohorts.cohort_table` makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from analytics.cohorts import COHORT_PERIODS, CohortPeriod, CohortTable, table_layout, table_of_counts
from analytics.periods import period_index

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CohortCells:
    """A cohort table's cells counted elsewhere (the read model keeps them, `CohortCell`): one entry
    per cohort and period with lines of the cohort's customers, both as period numbers
    (`analytics.periods.period_index`). `buyers`: the cohort's customers with a purchase in the
    period; `lasts`: those whose last purchase is in it; `net_cents`: the net of all their lines in
    it. A period before its cohort holds net only (returns of sales made before the data)."""

    cohorts: IntArray
    periods: IntArray
    buyers: IntArray
    lasts: IntArray
    net_cents: IntArray
    groups: IntArray | None = None  # the group of the customers counted (cohort_cells_count)


def cohort_cells_count(
    *,
    offsets: npt.ArrayLike,
    days: npt.ArrayLike,
    net_cents: npt.ArrayLike,
    purchase: npt.ArrayLike,
    groups: npt.ArrayLike,
    period: CohortPeriod,
) -> CohortCells:
    """The cells of the customers given (see the module docstring), in (group, cohort, period) order."""
    offsets_a = np.asarray(offsets, dtype=np.int64)
    net_a = np.asarray(net_cents, dtype=np.int64)
    purchase_a = np.asarray(purchase, dtype=np.bool_)
    group_codes, customer_group = np.unique(np.asarray(groups, dtype=np.int64), return_inverse=True)
    customers = offsets_a.size - 1
    owner = np.repeat(np.arange(customers, dtype=np.int64), np.diff(offsets_a))
    periods = period_index(np.asarray(days), period)

    # Each customer's first and last purchase (their entries are in day order).
    purchase_rows = np.flatnonzero(purchase_a)
    buyer_of = owner[purchase_rows]
    starts = np.ones(purchase_rows.size, dtype=np.bool_)
    starts[1:] = buyer_of[1:] != buyer_of[:-1]
    ends = np.ones(purchase_rows.size, dtype=np.bool_)
    ends[:-1] = starts[1:]
    bought = np.zeros(customers, dtype=np.bool_)
    bought[buyer_of] = True
    cohort_of = np.zeros(customers, dtype=np.int64)
    cohort_of[buyer_of[starts]] = periods[purchase_rows[starts]]
    last_of = np.zeros(customers, dtype=np.int64)
    last_of[buyer_of[ends]] = periods[purchase_rows[ends]]

    # A purchase entry counts its customer as a buyer of its period when it is the customer's first
    # purchase in that period.
    first_in_period = np.zeros(periods.size, dtype=np.int64)
    new_period = starts.copy()
    new_period[1:] |= periods[purchase_rows[1:]] != periods[purchase_rows[:-1]]
    first_in_period[purchase_rows[new_period]] = 1

    kept = bought[owner]  # customers without a purchase are in no cell
    entry_owner = owner[kept]
    buyers_list = np.flatnonzero(bought)
    # Every entry, then one more per buyer at their last purchase's period (lasts).
    group = np.concatenate([customer_group[entry_owner], customer_group[buyers_list]]).astype(np.int64)
    cohort = np.concatenate([cohort_of[entry_owner], cohort_of[buyers_list]])
    cell_period = np.concatenate([periods[kept], last_of[buyers_list]])
    net = np.concatenate([net_a[kept], np.zeros(buyers_list.size, dtype=np.int64)])
    buyer = np.concatenate([first_in_period[kept], np.zeros(buyers_list.size, dtype=np.int64)])
    last = np.concatenate([np.zeros(int(kept.sum()), dtype=np.int64), np.ones(buyers_list.size, dtype=np.int64)])
    if not group.size:
        empty = np.zeros(0, dtype=np.int64)
        return CohortCells(cohorts=empty, periods=empty, buyers=empty, lasts=empty, net_cents=empty, groups=empty)

    # One integer key per (group, cohort, period), its entries summed per key.
    low = int(min(cohort.min(), cell_period.min()))
    span = int(max(cohort.max(), cell_period.max())) - low + 1
    key = (group * span + (cohort - low)) * span + (cell_period - low)
    possible = group_codes.size * span * span
    dense = possible <= max(DENSE_KEYS, 2 * key.size)
    keys, (buyers, lasts, net_sums) = _sums_by_key(key, possible, (buyer, last, net), dense=dense)
    return CohortCells(
        cohorts=(keys // span) % span + low,
        periods=keys % span + low,
        buyers=buyers,
        lasts=lasts,
        net_cents=net_sums,
        groups=group_codes[keys // (span * span)],
    )


# Up to this many possible keys (or twice the entries), the sums go into one slot per possible key
# (a byte, and 8 per summed value): a pass over the entries, where sorting half a million took 35 ms.
DENSE_KEYS = 1 << 21


def _sums_by_key(
    key: IntArray, possible: int, values: tuple[IntArray, ...], *, dense: bool
) -> tuple[IntArray, tuple[IntArray, ...]]:
    """The distinct keys (each below `possible`) in increasing order, and each of `values` summed per
    key in exact integers: in one slot per possible key when `dense`, else by sorting the entries."""
    if dense:
        seen = np.zeros(possible, dtype=np.bool_)
        seen[key] = True
        keys = np.flatnonzero(seen)
        sums = []
        for value in values:
            total = np.zeros(possible, dtype=np.int64)
            np.add.at(total, key, value)
            sums.append(total[keys])
        return keys, tuple(sums)
    order = np.argsort(key)
    ordered = key[order]
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = ordered[1:] != ordered[:-1]
    at = np.flatnonzero(first)
    return ordered[at], tuple(np.add.reduceat(value[order], at) for value in values)


def cohort_table_from_cells(
    cells: CohortCells,
    *,
    customers_without_purchase: int,
    first_day: date,
    last_day: date,
    period: CohortPeriod = "month",
    cohorts_from: date | None = None,
    cohorts_to: date | None = None,
) -> CohortTable:
    """The cohort table (see `analytics.cohorts`) from cells counted elsewhere: the same table
    `cohort_table` makes from the customers' days. Raises ValueError when the first day is after the
    last."""
    if period not in COHORT_PERIODS:
        raise ValueError(f"Unknown cohort period {period!r}: one of {', '.join(COHORT_PERIODS)}.")
    if first_day > last_day:
        raise ValueError(f"The first day ({first_day}) is after the last day ({last_day}).")
    layout = table_layout(period, first_day, last_day, cohorts_from, cohorts_to)
    rows, width = layout.rows, layout.width
    row = np.asarray(cells.cohorts, dtype=np.int64) - layout.row_low
    k = np.asarray(cells.periods, dtype=np.int64) - np.asarray(cells.cohorts, dtype=np.int64)
    in_rows = (row >= 0) & (row < rows)
    in_cell = in_rows & (k >= 0) & (k < width)
    slot = row[in_cell] * width + k[in_cell]

    def counted(values: IntArray) -> IntArray:
        table = np.zeros(rows * width, dtype=np.int64)
        np.add.at(table, slot, np.asarray(values, dtype=np.int64)[in_cell])
        return table.reshape(rows, width)

    bought = counted(cells.buyers)
    net_before = int(np.asarray(cells.net_cents, dtype=np.int64)[in_rows & (k < 0)].sum())
    return table_of_counts(
        layout,
        sizes=bought[:, 0].copy() if width else np.zeros(rows, dtype=np.int64),
        bought=bought,
        last_counts=counted(cells.lasts),
        revenue=counted(cells.net_cents),
        net_before=net_before,
        customers_without_purchase=customers_without_purchase,
    )
