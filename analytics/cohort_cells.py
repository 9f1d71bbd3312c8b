"""Cohort cells: the counts a cohort table is made of, per group of customers, counted from the
customers' transactions. Pure numpy; no database.

Input as `analytics.cohorts.cohort_table` takes it (per customer, their entries in day order: day,
net in cents, whether it holds a purchase), plus each customer's group (the read model groups by
the store of the first purchase). Output, one entry per group, cohort and period with entries of the
group's customers of that cohort (`CohortCells`): the customers with a purchase in the period
(`buyers`), those whose last purchase is in it (`lasts`), the net of their entries in it
(`net_cents`); a period before the cohort's holds the net of returns dated before the first purchase.
Customers without a purchase are in no cell. Cells of disjoint sets of customers add up, so the read
model keeps them per group and moves them by the customers an import touches; summed over groups
they give `analytics.cohorts.cohort_table_from_cells` the table `cohort_table` makes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analytics.cohorts import CohortCells, CohortPeriod
from analytics.periods import period_index

IntArray = npt.NDArray[np.int64]


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

    # One sortable key per (group, cohort, period): a sort of one integer, not three.
    low = int(min(cohort.min(), cell_period.min()))
    span = int(max(cohort.max(), cell_period.max())) - low + 1
    key = (group * span + (cohort - low)) * span + (cell_period - low)
    order = np.argsort(key)
    key = key[order]
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = key[1:] != key[:-1]
    at = np.flatnonzero(first)
    group, cohort, cell_period = group_codes[group[order]], cohort[order], cell_period[order]
    return CohortCells(
        cohorts=cohort[at],
        periods=cell_period[at],
        buyers=np.add.reduceat(buyer[order], at),
        lasts=np.add.reduceat(last[order], at),
        net_cents=np.add.reduceat(net[order], at),
        groups=group[at],
    )
