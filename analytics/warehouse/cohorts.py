"""Cohorts from the customer summaries: every customer's transaction history, merged per day, handed to
the pure `analytics.cohorts` (never the lines). Filters: the store and the categories of the customers'
first purchase, and the range of the cohorts' periods. Cached per data version and question.

Periods the data does not cover (years between an old import and a new one) hold unknown values, not
zeros: their cells are None, and cohorts starting in them are left out."""

from __future__ import annotations

import dataclasses

import numpy as np

from analytics.cohorts import COHORT_PERIODS, CohortPeriod, CohortTable, cohort_table
from analytics.periods import next_period_start, period_axis, period_end, period_start
from analytics.warehouse.answers import answer_get, question_key
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.customers import CustomerTransactions, customer_transactions_get
from analytics.warehouse.filters import SalesFilter, dimensions_get


@dataclasses.dataclass(frozen=True)
class CustomerDays:
    """Per customer, the distinct days with a line: net of that day in cents, and whether it holds a purchase."""

    offsets: np.ndarray
    days: np.ndarray
    net_cents: np.ndarray
    purchase: np.ndarray


def customer_days(transactions: CustomerTransactions) -> CustomerDays:
    """The transactions merged per customer and day (they are in day order per customer)."""
    offsets, days = transactions.offsets, transactions.days
    # A day starts a run where the customer changes (an offset) or the day does.
    new_run = np.ones(days.size, dtype=np.bool_)
    new_run[1:] = days[1:] != days[:-1]
    new_run[offsets[1:-1][offsets[1:-1] < days.size]] = True
    if new_run.all():  # no customer has two transactions on a day (a mall file's one line per invoice)
        purchase = transactions.purchase_lines > 0
        return CustomerDays(offsets=offsets, days=days, net_cents=transactions.net_cents, purchase=purchase)
    starts = np.flatnonzero(new_run)
    if not len(starts):
        empty = np.zeros(0, dtype=np.int64)
        return CustomerDays(np.zeros(offsets.size, dtype=np.int64), empty, empty, np.zeros(0, dtype=np.bool_))
    net = np.add.reduceat(transactions.net_cents, starts)
    purchase = np.add.reduceat(transactions.purchase_lines, starts) > 0
    run_offsets = np.searchsorted(starts, offsets).astype(np.int64)
    return CustomerDays(offsets=run_offsets, days=days[starts], net_cents=net, purchase=purchase)


def cohorts_get(*, period: CohortPeriod, sales_filter: SalesFilter) -> CohortTable | None:
    """The cohort table of the customers whose first purchase falls in the filter's dates, stores and
    categories; None without data."""
    question = question_key(period, sales_filter.cache_key)
    return answer_get("cohorts", question, lambda version: _cohorts(period, sales_filter, version))


def cohorts_warm() -> None:
    """The unfiltered cohort table of every period for the current data, from one read of the
    histories: run after an import commits (analytics.tasks), so that the Cohorts page opens warm."""
    everything = SalesFilter()
    days: CustomerDays | None = None
    for period in COHORT_PERIODS:

        def compute(version: int, period: CohortPeriod = period) -> CohortTable | None:
            nonlocal days
            days = days or _customer_days(period, everything, version)
            return _cohorts(period, everything, version, days=days)

        answer_get("cohorts", question_key(period, everything.cache_key), compute)


def _customer_days(period: CohortPeriod, sales_filter: SalesFilter, version: int) -> CustomerDays:
    """The days of the customers the filter's cohorts can hold (and of those without a purchase)."""
    dimensions = dimensions_get(data_version=version)
    date_from, date_to = sales_filter.date_from, sales_filter.date_to
    transactions = customer_transactions_get(
        first_store_ids=tuple(dimensions.store_ids[name] for name in sales_filter.stores),
        first_category_ids=tuple(dimensions.category_ids[name] for name in sales_filter.categories),
        first_purchase_from=period_start(date_from, period) if date_from else None,
        first_purchase_to=period_end(date_to, period) if date_to else None,
    )
    return customer_days(transactions)


def _cohorts(
    period: CohortPeriod, sales_filter: SalesFilter, version: int, *, days: CustomerDays | None = None
) -> CohortTable | None:
    coverage = data_coverage_get(data_version=version)
    if not coverage:
        return None
    days = days or _customer_days(period, sales_filter, version)
    first, last = coverage[0].start, coverage[-1].end
    table = cohort_table(
        offsets=days.offsets,
        days=days.days,
        net_cents=days.net_cents,
        purchase=days.purchase,
        first_day=first,
        last_day=last,
        period=period,
        cohorts_from=sales_filter.date_from,
        cohorts_to=sales_filter.date_to,
    )
    return _uncovered_unknown(table, period, coverage)


def _uncovered_unknown(table: CohortTable, period: CohortPeriod, coverage: tuple) -> CohortTable:
    """Cells of periods the data does not cover set to None, and cohorts starting in one left out."""
    covered = {item.start for item in period_axis(period, coverage=coverage)}
    if len(coverage) == 1:
        return table
    cohorts = []
    for cohort in table.cohorts:
        if cohort.start not in covered:
            continue
        starts, start = [], cohort.start
        for _ in range(table.periods):
            starts.append(start)
            start = next_period_start(start, period)
        unknown = [start not in covered for start in starts]
        cohorts.append(
            dataclasses.replace(
                cohort,
                buyers=_masked(cohort.buyers, unknown),
                retention=_masked(cohort.retention, unknown),
                unbounded=_masked(cohort.unbounded, unknown),
                revenue=_masked(cohort.revenue, unknown),
                cumulative_revenue=_masked(cohort.cumulative_revenue, unknown),
            )
        )
    return dataclasses.replace(table, cohorts=tuple(cohorts))


def _masked(values: tuple, unknown: list[bool]) -> tuple:
    return tuple(None if gone else value for value, gone in zip(values, unknown, strict=True))
