"""Sales over time: per month, per quarter, and per month of the year averaged over the years.

Periods are calendar months and quarters on a real axis (see analytics.periods): every month the
data covers is listed, a covered month without sales as a zero; months between two imports' spans
(years between an old file and a new one) hold no covered day and are not listed. Each period says
how many of its days the data covers (`days_covered` of `days_in_period`); a first or last month the
data covers only in part is `partial`, so a short month is never read as a slump.

`month_of_year` averages each calendar month's net sales over the years in which that month is
completely covered; a partly covered month is left out (and listed in `partial_years_left_out`)
rather than scaled up per covered day, and a month with no complete year has no average (null).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from analytics.periods import Period, PeriodValue, month_of_year_averages, period_axis
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.scope import Scope, fetch, scoped_answer
from retail_platform.money import money

MONTH_OF_YEAR_METHOD = (
    "Average over the years in which the calendar month is completely covered by the data; partly covered "
    "months (the first and last month of the data or of the date filter) are left out, not scaled."
)


@dataclass(frozen=True)
class PeriodSales:
    """A month (`YYYY-MM`) or quarter (`YYYY-Qn`) on the axis, and how much of it the data covers."""

    label: str
    start: datetime.date
    gross_sales: Decimal
    net_sales: Decimal
    transactions: int
    days_covered: int
    days_in_period: int
    partial: bool


@dataclass(frozen=True)
class MonthOfYearSales:
    month: int  # 1-12
    avg_net_sales: Decimal | None  # None when no year holds this month completely
    years: int
    partial_years_left_out: tuple[int, ...]


@dataclass(frozen=True)
class Seasonality:
    monthly: tuple[PeriodSales, ...]
    quarterly: tuple[PeriodSales, ...]
    month_of_year: tuple[MonthOfYearSales, ...]
    month_of_year_method: str = MONTH_OF_YEAR_METHOD


# Kept as names the charts and pages use.
MonthSales = PeriodSales
QuarterSales = PeriodSales


def _seasonality(scope: Scope) -> Seasonality:
    where, params = scope.daily_where()
    money_rows = fetch(
        "SELECT date_trunc('month', date)::date AS month, sum(gross_sales), sum(net_sales) "
        f"FROM analytics_salesdaily WHERE {where} GROUP BY 1",
        params,
    )
    # A transaction has one date, so transactions per month add up to quarters exactly.
    if scope.counted_by_day:
        where, params = scope.category_transactions_where(by_payment_method=False)
        sql = (
            "SELECT date_trunc('month', date)::date AS month, sum(transactions) "
            f"FROM analytics_categorytransactionsdaily WHERE {where} GROUP BY 1"
        )
    else:
        where, params = scope.transactions_where()
        sql = (
            "SELECT date_trunc('month', date)::date AS month, count(*) "
            f"FROM analytics_salestransaction AS t WHERE {where} GROUP BY 1"
        )
    transactions = {month: int(count) for month, count in fetch(sql, params)}
    sums = {month: (money(gross), money(net)) for month, gross, net in money_rows}
    coverage = data_coverage_get(data_version=scope.data_version)
    sales_filter = scope.sales_filter
    months = period_axis("month", coverage=coverage, date_from=sales_filter.date_from, date_to=sales_filter.date_to)
    monthly = tuple(
        _sales(period, *sums.get(period.start, (money(0), money(0))), transactions.get(period.start, 0))
        for period in months
    )
    quarter_sums: dict[datetime.date, list] = defaultdict(lambda: [money(0), money(0), 0])
    for row in monthly:
        totals = quarter_sums[datetime.date(row.start.year, (row.start.month - 1) // 3 * 3 + 1, 1)]
        totals[0] += row.gross_sales
        totals[1] += row.net_sales
        totals[2] += row.transactions
    quarters = period_axis("quarter", coverage=coverage, date_from=sales_filter.date_from, date_to=sales_filter.date_to)
    quarterly = tuple(_sales(period, *quarter_sums[period.start]) for period in quarters)
    averages = month_of_year_averages(
        [PeriodValue(period, row.net_sales) for period, row in zip(months, monthly, strict=True)]
    )
    month_of_year = tuple(
        MonthOfYearSales(
            month=average.month,
            avg_net_sales=average.average,
            years=len(average.years),
            partial_years_left_out=average.left_out,
        )
        for average in averages
        if average.years or average.left_out
    )
    return Seasonality(monthly=monthly, quarterly=quarterly, month_of_year=month_of_year)


def _sales(period: Period, gross: Decimal, net: Decimal, transactions: int) -> PeriodSales:
    return PeriodSales(
        label=period.label,
        start=period.start,
        gross_sales=gross,
        net_sales=net,
        transactions=transactions,
        days_covered=period.days_covered,
        days_in_period=period.days_in_period,
        partial=period.partial,
    )


def seasonality_get(*, sales_filter: SalesFilter) -> Seasonality:
    """Monthly and quarterly gross and net sales and transactions with their coverage, and the average
    net sales per month of year over complete months."""
    return scoped_answer("seasonality", sales_filter, _seasonality)
