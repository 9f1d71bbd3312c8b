"""Sales over time: per month, per quarter, and per month of the year averaged over the years.

`month_of_year` averages, for each calendar month, the net sales of that month over the *years
present*: the years in which that calendar month has at least one line in scope. A month without
any line in a year is absent, not a zero: with data from January 2021 to March 2023, January and
March average three years and April two. (A month only partly covered, such as the first days of
a file's last month, still counts as present.) `years` on each row says how many were averaged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.scope import Scope, fetch, money, scoped_answer


@dataclass(frozen=True)
class MonthSales:
    month: str  # YYYY-MM
    gross_sales: Decimal
    net_sales: Decimal
    transactions: int


@dataclass(frozen=True)
class QuarterSales:
    quarter: str  # YYYY-Qn
    gross_sales: Decimal
    net_sales: Decimal
    transactions: int


@dataclass(frozen=True)
class MonthOfYearSales:
    month: int  # 1-12
    avg_net_sales: Decimal
    years: int


@dataclass(frozen=True)
class Seasonality:
    monthly: tuple[MonthSales, ...]
    quarterly: tuple[QuarterSales, ...]
    month_of_year: tuple[MonthOfYearSales, ...]


def _seasonality(scope: Scope) -> Seasonality:
    where, params = scope.daily_where()
    money_rows = fetch(
        "SELECT date_trunc('month', date)::date AS month, sum(gross_sales), sum(net_sales) "
        f"FROM analytics_salesdaily WHERE {where} GROUP BY 1 ORDER BY 1",
        params,
    )
    # A transaction has one date, so transactions per month add up to quarters exactly.
    if scope.one_category_counted:
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
    transactions = dict(fetch(sql, params))
    monthly = tuple(
        MonthSales(
            month=f"{month:%Y-%m}",
            gross_sales=money(gross),
            net_sales=money(net),
            transactions=int(transactions.get(month, 0)),
        )
        for month, gross, net in money_rows
    )

    quarters: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    by_month_of_year: dict[int, list[Decimal]] = defaultdict(list)
    for (month, _gross, _net), row in zip(money_rows, monthly, strict=True):
        totals = quarters[f"{month.year}-Q{(month.month - 1) // 3 + 1}"]
        totals[0] += row.gross_sales
        totals[1] += row.net_sales
        totals[2] += row.transactions
        by_month_of_year[month.month].append(row.net_sales)
    quarterly = tuple(
        QuarterSales(quarter=quarter, gross_sales=gross, net_sales=net, transactions=count)
        for quarter, (gross, net, count) in sorted(quarters.items())
    )
    month_of_year = tuple(
        MonthOfYearSales(month=month, avg_net_sales=money(sum(nets, Decimal(0)) / len(nets)), years=len(nets))
        for month, nets in sorted(by_month_of_year.items())
    )
    return Seasonality(monthly=monthly, quarterly=quarterly, month_of_year=month_of_year)


def seasonality_get(*, sales_filter: SalesFilter) -> Seasonality:
    """Monthly and quarterly gross and net sales and transactions, and the average net sales per month of year."""
    return scoped_answer("seasonality", sales_filter, _seasonality)
