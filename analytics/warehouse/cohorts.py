"""Cohorts from the customer summaries: every customer's transaction history, merged per day, handed to
the pure `analytics.cohorts` (never the lines). Filters: the store and the categories of the customers'
first purchase, and the range of the cohorts' periods. Cached per data version and question.

Periods the data does not cover (years between an old import and a new one) hold unknown values, not
zeros: their cells are None, and cohorts starting in them are left out."""

from __future__ import annotations

import dataclasses

import numpy as np

from analytics.cohorts import CohortPeriod, CohortTable, cohort_table
from analytics.periods import next_period_start, period_axis
from analytics.warehouse.answers import answer_get, question_key
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.customers import CustomerHistories, customer_histories_get
from analytics.warehouse.filters import SalesFilter, dimensions_get


@dataclasses.dataclass(frozen=True)
class CustomerDays:
    """Per customer, the distinct days with a line: net of that day in cents, and whether it holds a purchase."""

    offsets: np.ndarray
    days: np.ndarray
    net_cents: np.ndarray
    purchase: np.ndarray


def customer_days(histories: CustomerHistories) -> CustomerDays:
    """The histories' transactions merged per customer and day (they are in day order per customer)."""
    owners, days = histories.transaction_customer, histories.days
    starts = np.flatnonzero(np.concatenate(([True], (owners[1:] != owners[:-1]) | (days[1:] != days[:-1]))))
    if not len(starts):
        empty = np.zeros(0, dtype=np.int64)
        return CustomerDays(np.zeros(len(histories) + 1, dtype=np.int64), empty, empty, np.zeros(0, dtype=np.bool_))
    net = np.add.reduceat(histories.transaction_net_cents, starts)
    purchase = np.add.reduceat((histories.purchase_lines > 0).astype(np.int64), starts) > 0
    offsets = np.searchsorted(owners[starts], np.arange(len(histories) + 1)).astype(np.int64)
    return CustomerDays(offsets=offsets, days=days[starts], net_cents=net, purchase=purchase)


def cohorts_get(*, period: CohortPeriod, sales_filter: SalesFilter) -> CohortTable | None:
    """The cohort table of the customers whose first purchase falls in the filter's dates, stores and
    categories; None without data."""
    question = question_key(period, sales_filter.cache_key)
    return answer_get("cohorts", question, lambda version: _cohorts(period, sales_filter, version))


def _cohorts(period: CohortPeriod, sales_filter: SalesFilter, version: int) -> CohortTable | None:
    coverage = data_coverage_get(data_version=version)
    if not coverage:
        return None
    dimensions = dimensions_get(data_version=version)
    histories = customer_histories_get(
        first_store_ids=tuple(dimensions.store_ids[name] for name in sales_filter.stores),
        first_category_ids=tuple(dimensions.category_ids[name] for name in sales_filter.categories),
    )
    days = customer_days(histories)
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
