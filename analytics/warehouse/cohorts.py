"""Cohorts from the customer summaries: the customers' transaction histories handed to the pure
`analytics.cohorts` (never the lines). Filters: the store and the categories of the customers' first
purchase, and the range of the cohorts' periods (only the customers whose first purchase falls in it
are read). Cached per data version and question; the unfiltered tables are computed after every
import (`cohorts_warm`).

Periods the data does not cover (years between an old import and a new one) hold unknown values, not
zeros: their cells are None, and cohorts starting in them are left out."""

from __future__ import annotations

import dataclasses

from analytics.cohorts import COHORT_PERIODS, CohortPeriod, CohortTable, cohort_table
from analytics.periods import next_period_start, period_axis, period_end, period_start
from analytics.warehouse.answers import answer_get, question_key
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.customers import CustomerTransactions, customer_transactions_get
from analytics.warehouse.filters import SalesFilter, dimensions_get


def cohorts_get(*, period: CohortPeriod, sales_filter: SalesFilter) -> CohortTable | None:
    """The cohort table of the customers whose first purchase falls in the filter's dates, stores and
    categories; None without data."""
    question = question_key(period, sales_filter.cache_key)
    return answer_get("cohorts", question, lambda version: _cohorts(period, sales_filter, version))


def cohorts_warm() -> None:
    """The unfiltered cohort table of every period for the current data, from one read of the
    histories: run after an import commits (analytics.tasks), so that the Cohorts page opens warm."""
    everything = SalesFilter()
    transactions: CustomerTransactions | None = None
    for period in COHORT_PERIODS:

        def compute(version: int, period: CohortPeriod = period) -> CohortTable | None:
            nonlocal transactions
            transactions = transactions or _transactions(period, everything, version)
            return _cohorts(period, everything, version, transactions=transactions)

        answer_get("cohorts", question_key(period, everything.cache_key), compute)


def _transactions(period: CohortPeriod, sales_filter: SalesFilter, version: int) -> CustomerTransactions:
    """The transactions of the customers the filter's cohorts can hold (and of those without a purchase)."""
    dimensions = dimensions_get(data_version=version)
    date_from, date_to = sales_filter.date_from, sales_filter.date_to
    return customer_transactions_get(
        first_store_ids=tuple(dimensions.store_ids[name] for name in sales_filter.stores),
        first_category_ids=tuple(dimensions.category_ids[name] for name in sales_filter.categories),
        first_purchase_from=period_start(date_from, period) if date_from else None,
        first_purchase_to=period_end(date_to, period) if date_to else None,
    )


def _cohorts(
    period: CohortPeriod,
    sales_filter: SalesFilter,
    version: int,
    *,
    transactions: CustomerTransactions | None = None,
) -> CohortTable | None:
    coverage = data_coverage_get(data_version=version)
    if not coverage:
        return None
    transactions = transactions or _transactions(period, sales_filter, version)
    first, last = coverage[0].start, coverage[-1].end
    table = cohort_table(
        offsets=transactions.offsets,
        days=transactions.days,
        net_cents=transactions.net_cents,
        purchase=transactions.purchase_lines > 0,
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
