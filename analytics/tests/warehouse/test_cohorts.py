"""Cohorts from the read model equal the pure table made from the lines themselves: from the cohort
cells (every filter but a category's), with the cohorts' dates and the first store, after increments
and after a rebuild; and from the customers' histories under a first-category filter."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from analytics.cohorts import COHORT_PERIODS, CohortPeriod, CohortTable, cohort_table
from analytics.tests.warehouse.sales_dataset import Line
from analytics.warehouse import (
    SalesFilter,
    cohorts_get,
    data_coverage_get,
    day_number,
)

pytestmark = pytest.mark.django_db

FILTERS = {
    "everything": SalesFilter(),
    "from": SalesFilter(date_from=datetime.date(2021, 9, 14)),
    "to": SalesFilter(date_to=datetime.date(2022, 2, 2)),
    "between": SalesFilter(date_from=datetime.date(2021, 5, 3), date_to=datetime.date(2022, 11, 30)),
    "first store": SalesFilter(stores=("Metrocity",)),
    # Read from the customers' histories (the cells are kept per first store, not category).
    "first category": SalesFilter(categories=("Shoes",), date_from=datetime.date(2021, 3, 1)),
}


def reference(lines: list[Line], period: CohortPeriod, sales_filter: SalesFilter) -> CohortTable:
    """The table from the lines: per customer and day, the net of every line and whether one is a purchase."""
    net: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    bought: dict[str, set[int]] = defaultdict(set)
    first_purchase: dict[str, tuple[datetime.date, str, str]] = {}
    categories: dict[tuple[str, datetime.date, str, str], set[str]] = defaultdict(set)
    for line in lines:
        net[line.customer][day_number(line.date)] += line.net
        if not line.is_return:
            bought[line.customer].add(day_number(line.date))
            key = (line.date, line.store, line.invoice_no)
            first_purchase[line.customer] = min(first_purchase.get(line.customer, key), key)
            categories[(line.customer, *key)].add(line.category)
    customers = sorted(net)
    if sales_filter.stores:
        customers = [c for c in customers if c in first_purchase and first_purchase[c][1] in sales_filter.stores]
    if sales_filter.categories:
        customers = [
            c
            for c in customers
            if c in first_purchase and categories[(c, *first_purchase[c])] & set(sales_filter.categories)
        ]
    offsets, days, cents, purchase = [0], [], [], []
    for customer in customers:
        for day in sorted(net[customer]):
            days.append(day)
            cents.append(int(net[customer][day] * 100))
            purchase.append(day in bought[customer])
        offsets.append(len(days))
    coverage = data_coverage_get()
    assert len(coverage) == 1  # so that no period is unknown in the middle of the table
    return cohort_table(
        offsets=offsets,
        days=np.array(days, dtype=np.int64),
        net_cents=cents,
        purchase=np.array(purchase, dtype=np.bool_),
        first_day=coverage[0].start,
        last_day=coverage[0].end,
        period=period,
        cohorts_from=sales_filter.date_from,
        cohorts_to=sales_filter.date_to,
    )


@pytest.mark.parametrize("period", COHORT_PERIODS)
@pytest.mark.parametrize("name", FILTERS)
def test_cohorts_equal_the_table_made_from_the_lines(sales_lines: list[Line], period: CohortPeriod, name: str) -> None:
    table = cohorts_get(period=period, sales_filter=FILTERS[name])

    assert table == reference(sales_lines, period, FILTERS[name])
    assert table is not None and table.cohorts and sum(cohort.customers for cohort in table.cohorts)
