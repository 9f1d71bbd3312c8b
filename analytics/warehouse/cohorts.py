"""Cohorts from the read model (never the lines), handed to the pure `analytics.cohorts`: from the
cohort cells (`CohortCell`, kept per first store by every import), or, under a category filter, from
the histories of the customers whose first purchase held one of the categories (and fell in the
filter's dates). Filters: the store and the categories of the customers' first purchase, and the
range of the cohorts' periods. Cached per data version and question.

Periods the data does not cover (years between an old import and a new one) hold unknown values, not
zeros: their cells are None, and cohorts starting in them are left out."""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
from django.db import connection

from analytics.cohort_cells import CohortCells, cohort_table_from_cells
from analytics.cohorts import CohortPeriod, CohortTable, cohort_table
from analytics.periods import next_period_start, period_axis, period_end, period_index, period_start
from analytics.warehouse.answers import answer_get, question_key
from analytics.warehouse.cohort_cells import cells_read, customers_without_purchase_count
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.customers import CustomerTransactions, customer_transactions_get
from analytics.warehouse.filters import SalesFilter, dimensions_get


def cohorts_get(*, period: CohortPeriod, sales_filter: SalesFilter) -> CohortTable | None:
    """The cohort table of the customers whose first purchase falls in the filter's dates, stores and
    categories; None without data."""
    question = question_key(period, sales_filter.cache_key)
    return answer_get("cohorts", question, lambda version: _cohorts(period, sales_filter, version))


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


def _cohorts(period: CohortPeriod, sales_filter: SalesFilter, version: int) -> CohortTable | None:
    coverage = data_coverage_get(data_version=version)
    if not coverage:
        return None
    first, last = coverage[0].start, coverage[-1].end
    if not sales_filter.categories:
        return _uncovered_unknown(_from_cells(period, sales_filter, version, first, last), period, coverage)
    transactions = _transactions(period, sales_filter, version)
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


def _from_cells(
    period: CohortPeriod, sales_filter: SalesFilter, version: int, first: datetime.date, last: datetime.date
) -> CohortTable:
    """The table from the cohort cells (no category filter: the cells are kept per first store)."""
    dimensions = dimensions_get(data_version=version)
    date_from, date_to = sales_filter.date_from, sales_filter.date_to
    store_ids = [dimensions.store_ids[name] for name in sales_filter.stores]
    with connection.cursor() as cursor:
        rows = cells_read(
            cursor,
            period=period,
            first_store_ids=store_ids,
            cohorts_from=period_start(date_from, period) if date_from else None,
            cohorts_to=period_start(date_to, period) if date_to else None,
        )
        without_purchase = 0
        if not store_ids:  # a customer without a purchase has no first store
            without_purchase = customers_without_purchase_count(cursor)
    cohorts, periods, buyers, lasts, net = np.array(rows, dtype=np.int64).reshape(-1, 5).T
    return cohort_table_from_cells(
        CohortCells(
            cohorts=period_index(cohorts, period),
            periods=period_index(periods, period),
            buyers=buyers,
            lasts=lasts,
            net_cents=net,
        ),
        customers_without_purchase=without_purchase,
        first_day=first,
        last_day=last,
        period=period,
        cohorts_from=date_from,
        cohorts_to=date_to,
    )


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
