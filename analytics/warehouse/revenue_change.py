"""Why revenue changed from period A to period B: the totals, store and category nets of each period
read from the rollups (never the lines), split by analytics.revenue_change (LMDI-I). Only the totals
count customers and transactions; a store's part needs its net sales alone."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from analytics.periods import DateRange
from analytics.revenue_change import PeriodTotals, RevenueChange, revenue_change
from analytics.warehouse.discounts import discount_impact_get
from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.sales import overview_get
from analytics.warehouse.scope import Scope, fetch, scoped_answer
from retail_platform.money import money


def revenue_change_get(*, a: DateRange, b: DateRange, sales_filter: SalesFilter) -> RevenueChange:
    """The change in net sales from A to B (the filter's stores and categories; its dates are A's and B's)."""

    def period(days: DateRange) -> tuple[PeriodTotals, dict[str, Decimal], dict[str, Decimal]]:
        scoped = dataclasses.replace(sales_filter, date_from=days.start, date_to=days.end)
        overview = overview_get(sales_filter=scoped)
        totals = PeriodTotals(
            customers=overview.customers,
            transactions=overview.transactions,
            units=overview.units,
            net=overview.net_sales,
        )
        stores = scoped_answer("store_nets", scoped, _store_nets)
        categories = {row.category: row.net_sales for row in discount_impact_get(sales_filter=scoped).categories}
        return totals, stores, categories

    totals_a, stores_a, categories_a = period(a)
    totals_b, stores_b, categories_b = period(b)
    return revenue_change(
        a=totals_a,
        b=totals_b,
        stores_a=stores_a,
        stores_b=stores_b,
        categories_a=categories_a,
        categories_b=categories_b,
    )


def _store_nets(scope: Scope) -> dict[str, Decimal]:
    """Net sales per store with lines in scope, by name."""
    where, params = scope.daily_where()
    names = scope.dimensions.store_names()
    rows = fetch(f"SELECT store_id, sum(net_sales) FROM analytics_salesdaily WHERE {where} GROUP BY store_id", params)
    return {names.get(store_id, str(store_id)): money(net) for store_id, net in rows}
