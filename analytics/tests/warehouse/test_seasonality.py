from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from decimal import Decimal

import pytest

from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import FILTERS, Line
from analytics.warehouse import SalesFilter, seasonality_get

pytestmark = pytest.mark.django_db


def _months(first: datetime.date, last: datetime.date) -> list[str]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(f"{day:%Y-%m}")
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def _span(lines: list[Line], sales_filter: SalesFilter) -> tuple[datetime.date, datetime.date]:
    """The days the data covers within the filter's dates: the data's own span (every line, whatever the
    store or category), narrowed by date_from and date_to."""
    first, last = min(line.date for line in lines), max(line.date for line in lines)
    return max(first, sales_filter.date_from or first), min(last, sales_filter.date_to or last)


@pytest.mark.parametrize("name", FILTERS)
def test_every_covered_month_and_quarter_is_listed_with_its_totals_and_coverage(
    sales_lines: list[Line], name: str
) -> None:
    sales_filter = FILTERS[name]
    lines = ref.scoped(sales_lines, sales_filter)
    per_month = ref.group(lines, lambda line: f"{line.date:%Y-%m}")
    per_quarter = ref.group(lines, lambda line: f"{line.date.year}-Q{(line.date.month - 1) // 3 + 1}")
    first, last = _span(sales_lines, sales_filter)

    result = seasonality_get(sales_filter=sales_filter)

    # A real calendar: every month from the first covered day to the last, months without sales as zeros.
    assert [row.label for row in result.monthly] == _months(first, last)
    for row in result.monthly:
        expected = ref.totals(per_month.get(row.label, []))
        assert (row.gross_sales, row.net_sales, row.transactions) == (
            expected["gross_sales"],
            expected["net_sales"],
            expected["transactions"],
        )
        days = calendar.monthrange(row.start.year, row.start.month)[1]
        month_last = row.start.replace(day=days)
        covered = (min(month_last, last) - max(row.start, first)).days + 1
        assert (row.days_in_period, row.days_covered, row.partial) == (days, covered, covered < days)
    assert sum(row.partial for row in result.monthly) <= 2
    assert [row.label for row in result.quarterly] == sorted(
        {f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in _months(first, last)}
    )
    for row in result.quarterly:
        expected = ref.totals(per_quarter.get(row.label, []))
        assert (row.gross_sales, row.net_sales, row.transactions) == (
            expected["gross_sales"],
            expected["net_sales"],
            expected["transactions"],
        )


@pytest.mark.parametrize("name", FILTERS)
def test_month_of_year_averages_net_sales_over_completely_covered_months_only(
    sales_lines: list[Line], name: str
) -> None:
    sales_filter = FILTERS[name]
    lines = ref.scoped(sales_lines, sales_filter)
    first, last = _span(sales_lines, sales_filter)
    nets: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        nets[f"{line.date:%Y-%m}"] += line.net
    complete: dict[int, list[Decimal]] = defaultdict(list)
    left_out: dict[int, list[int]] = defaultdict(list)
    for month in _months(first, last):
        year, number = int(month[:4]), int(month[5:])
        start = datetime.date(year, number, 1)
        end = start.replace(day=calendar.monthrange(year, number)[1])
        if start < first or end > last:
            left_out[number].append(year)
        else:
            complete[number].append(nets[month])

    result = {row.month: row for row in seasonality_get(sales_filter=sales_filter).month_of_year}

    assert set(result) == set(complete) | set(left_out)
    for month, row in result.items():
        assert row.years == len(complete[month])
        assert row.partial_years_left_out == tuple(left_out[month])
        expected = ref.cents(sum(complete[month], Decimal(0)) / len(complete[month])) if complete[month] else None
        assert row.avg_net_sales == expected


def test_a_partly_covered_last_month_is_marked_and_left_out_of_its_average(sales_lines: list[Line]) -> None:
    last = max(line.date for line in sales_lines)
    result = seasonality_get(sales_filter=SalesFilter())
    final = result.monthly[-1]
    assert final.start == last.replace(day=1)
    if last.day < calendar.monthrange(last.year, last.month)[1]:
        assert final.partial and final.days_covered == last.day
        assert last.year in {row.month: row for row in result.month_of_year}[last.month].partial_years_left_out
    assert "left out" in result.month_of_year_method
