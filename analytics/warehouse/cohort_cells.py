"""Keeping `CohortCell` current (customers by cohort and first store, per week, month and quarter of
their lines; analytics.cohort_cells counts them), and reading it.

The cells of disjoint sets of customers add up, so a change of the read model moves them by the
customers it touches: their part as their summaries were is taken out before the summaries are
brought up to date, and their part as they are now put in after (`cells_of` before and after,
then `cells_write` with both, called by maintenance.py with the ways the change touches each
customer). The parts are counted in numpy from the summaries' packed histories; only the cells that
move are written. Cells left at zero are
deleted, so that the increments leave the table a rebuild makes. The table is small (cohorts x
periods x stores); on a Citus cluster it sits on the coordinator.
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np

from analytics.cohort_cells import CohortCells, cohort_cells_count
from analytics.cohorts import COHORT_PERIODS
from analytics.periods import day_number, period_start_of_index
from analytics.warehouse.customers import customer_transactions_get

_UPSERT = """
INSERT INTO analytics_cohortcell AS c (period_kind, first_store_id, cohort, period, buyers, lasts, net)
SELECT kind, store, DATE '2000-01-01' + cohort, DATE '2000-01-01' + period, buyers, lasts, cents::numeric / 100
FROM unnest(%s::text::text[], %s::text::bigint[], %s::text::int[], %s::text::int[], %s::text::int[], %s::text::int[],
            %s::text::int8[])
     AS cell(kind, store, cohort, period, buyers, lasts, cents)
ON CONFLICT (period_kind, first_store_id, cohort, period) DO UPDATE
    SET buyers = c.buyers + excluded.buyers, lasts = c.lasts + excluded.lasts, net = c.net + excluded.net
"""

_EMPTY_DELETE = "DELETE FROM analytics_cohortcell WHERE buyers = 0 AND lasts = 0 AND net = 0"


CellsByKind = dict[str, CohortCells]


def cells_of(*, touched: tuple[str, ...]) -> CellsByKind:
    """The cells of the customers the running change touches in the ways `touched` (every customer
    when empty), as their summaries are now, per period kind."""
    transactions = customer_transactions_get(touched=touched)
    return {
        kind: cohort_cells_count(
            offsets=transactions.offsets,
            days=transactions.days,
            net_cents=transactions.net_cents,
            purchase=transactions.purchase_lines > 0,
            groups=transactions.first_store_ids,
            period=kind,
        )
        for kind in COHORT_PERIODS
    }


def cells_write(cursor: Any, *, taken: CellsByKind | None, put: CellsByKind) -> None:
    """Move the table by `put` less `taken` (the touched customers' cells after and before the
    change), writing only the cells that move; then delete the cells left at zero."""
    columns: list[list[Any]] = [[] for _ in range(7)]
    for kind in COHORT_PERIODS:
        cells = _difference(put[kind], taken[kind] if taken else None)
        if cells is None:
            continue
        assert cells.groups is not None
        starts = {
            int(index): day_number(period_start_of_index(int(index), kind))
            for index in np.unique(np.concatenate([cells.cohorts, cells.periods]))
        }
        columns[0].extend([kind] * len(cells.cohorts))
        columns[1].extend(cells.groups.tolist())
        columns[2].extend(starts[index] for index in cells.cohorts.tolist())
        columns[3].extend(starts[index] for index in cells.periods.tolist())
        columns[4].extend(cells.buyers.tolist())
        columns[5].extend(cells.lasts.tolist())
        columns[6].extend(cells.net_cents.tolist())
    if columns[0]:
        # Each column as one array literal: psycopg would quote every element of a list on its own.
        cursor.execute(_UPSERT, ["{" + ",".join(map(str, column)) + "}" for column in columns])
    cursor.execute(_EMPTY_DELETE)


def _difference(put: CohortCells, taken: CohortCells | None) -> CohortCells | None:
    """put - taken per (group, cohort, period), without the cells that do not move; None if none does."""
    parts = [put] if taken is None else [put, taken]
    signs = [1] if taken is None else [1, -1]
    assert all(part.groups is not None for part in parts)
    group = np.concatenate([part.groups for part in parts if part.groups is not None])
    cohort = np.concatenate([part.cohorts for part in parts])
    period = np.concatenate([part.periods for part in parts])
    if not group.size:
        return None
    values = [
        np.concatenate([sign * getattr(part, name) for part, sign in zip(parts, signs, strict=True)])
        for name in ("buyers", "lasts", "net_cents")
    ]
    order = np.lexsort((period, cohort, group))
    group, cohort, period = group[order], cohort[order], period[order]
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = (group[1:] != group[:-1]) | (cohort[1:] != cohort[:-1]) | (period[1:] != period[:-1])
    at = np.flatnonzero(first)
    buyers, lasts, net = (np.add.reduceat(value[order], at) for value in values)
    moves = (buyers != 0) | (lasts != 0) | (net != 0)
    if not moves.any():
        return None
    at = at[moves]
    return CohortCells(
        cohorts=cohort[at],
        periods=period[at],
        buyers=buyers[moves],
        lasts=lasts[moves],
        net_cents=net[moves],
        groups=group[at],
    )


def cells_read(
    cursor: Any,
    *,
    period: str,
    first_store_ids: list[int],
    cohorts_from: datetime.date | None,
    cohorts_to: datetime.date | None,
) -> list[tuple[int, int, int, int, int]]:
    """(cohort day number, period day number, buyers, lasts, net cents) per cohort and period, summed
    over the stores given (every store without)."""
    clauses: list[str] = ["period_kind = %s"]
    params: list[Any] = [period]
    if first_store_ids:
        clauses.append("first_store_id = ANY(%s)")
        params.append(first_store_ids)
    if cohorts_from:
        clauses.append("cohort >= %s")
        params.append(cohorts_from)
    if cohorts_to:
        clauses.append("cohort <= %s")
        params.append(cohorts_to)
    cursor.execute(
        "SELECT cohort - DATE '2000-01-01', period - DATE '2000-01-01', sum(buyers), sum(lasts),"
        f" (sum(net) * 100)::int8 FROM analytics_cohortcell WHERE {' AND '.join(clauses)} GROUP BY cohort, period",
        params,
    )
    return cursor.fetchall()


def customers_without_purchase_count(cursor: Any) -> int:
    """Customers whose only lines are returns: in no cohort."""
    cursor.execute("SELECT count(*) FROM analytics_customersummary WHERE first_purchase_date IS NULL")
    return int(cursor.fetchone()[0])
