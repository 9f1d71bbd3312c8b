from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import FILTERS, Line
from analytics.warehouse import seasonality_get

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", FILTERS)
def test_monthly_and_quarterly_totals_equal_the_lines(sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    per_month = ref.group(lines, lambda line: f"{line.date:%Y-%m}")
    per_quarter = ref.group(lines, lambda line: f"{line.date.year}-Q{(line.date.month - 1) // 3 + 1}")

    result = seasonality_get(sales_filter=FILTERS[name])

    assert [row.month for row in result.monthly] == sorted(per_month)
    for row in result.monthly:
        expected = ref.totals(per_month[row.month])
        assert (row.gross_sales, row.net_sales, row.transactions) == (
            expected["gross_sales"],
            expected["net_sales"],
            expected["transactions"],
        )
    assert [row.quarter for row in result.quarterly] == sorted(per_quarter)
    for row in result.quarterly:
        expected = ref.totals(per_quarter[row.quarter])
        assert (row.gross_sales, row.net_sales, row.transactions) == (
            expected["gross_sales"],
            expected["net_sales"],
            expected["transactions"],
        )


@pytest.mark.parametrize("name", FILTERS)
def test_month_of_year_averages_net_sales_over_the_years_that_month_has_lines(
    sales_lines: list[Line], name: str
) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    nets: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in lines:
        nets[line.date.month][line.date.year] += line.net

    result = seasonality_get(sales_filter=FILTERS[name])

    assert [row.month for row in result.month_of_year] == sorted(nets)
    for row in result.month_of_year:
        by_year = nets[row.month]
        assert row.years == len(by_year)
        assert row.avg_net_sales == ref.cents(sum(by_year.values()) / len(by_year))


def test_month_of_year_counts_three_years_for_january_and_two_for_april(sales_lines: list[Line]) -> None:
    # The data runs from January 2021 to March 2023.
    result = {row.month: row.years for row in seasonality_get(sales_filter=FILTERS["none"]).month_of_year}
    assert result[1] == 3
    assert result[4] == 2
