"""Discount impact per category: what was sold, what was given away, and what was left.

Discounts are the amounts the imported file carries, never estimated: a file without a discount
column has every discount at 0, and `has_discounts` is False. Cost and margin need the file's
cost: a category's `cost` and `margin` are given only when every one of its lines in scope carries
a cost, and are None otherwise (never a margin over part of the lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.scope import Scope, fetch, ratio, scoped_answer
from retail_platform.money import money


@dataclass(frozen=True)
class CategoryDiscountImpact:
    category: str
    gross_sales: Decimal
    discount: Decimal
    net_sales: Decimal
    # discount / gross_sales; None when gross sales are zero.
    discount_rate: float | None
    units: int
    # Cost of the lines, and net_sales - cost; None unless every line in scope carries a cost.
    cost: Decimal | None
    margin: Decimal | None
    # margin / net_sales; None without a margin or with zero net sales.
    margin_rate: float | None


@dataclass(frozen=True)
class DiscountImpact:
    # Whether any line of the data (whatever the filter) has a non-zero discount.
    has_discounts: bool
    # Whether any line of the data (whatever the filter) carries a cost.
    has_cost: bool
    categories: tuple[CategoryDiscountImpact, ...]


def _discount_impact(scope: Scope) -> DiscountImpact:
    where, params = scope.daily_where()
    has_discounts, has_cost = fetch(
        "SELECT EXISTS (SELECT 1 FROM analytics_salesdaily WHERE discount <> 0), "
        "EXISTS (SELECT 1 FROM analytics_salesdaily WHERE cost_lines > 0)",
        [],
    )[0]
    names = scope.dimensions.category_names()
    rows = []
    for category_id, gross, discount, net, units, cost, cost_lines, lines in fetch(
        "SELECT category_id, sum(gross_sales), sum(discount), sum(net_sales), sum(units), sum(cost), "
        f"sum(cost_lines), sum(purchase_lines + return_lines) FROM analytics_salesdaily WHERE {where} "
        "GROUP BY category_id",
        params,
    ):
        gross, discount, net = money(gross), money(discount), money(net)
        full_cost = money(cost) if cost_lines == lines else None
        margin = net - full_cost if full_cost is not None else None
        rows.append(
            CategoryDiscountImpact(
                category=names.get(category_id, str(category_id)),
                gross_sales=gross,
                discount=discount,
                net_sales=net,
                discount_rate=ratio(discount, gross),
                units=int(units),
                cost=full_cost,
                margin=margin,
                margin_rate=ratio(margin, net) if margin is not None else None,
            )
        )
    rows.sort(key=lambda row: (-row.net_sales, row.category))
    return DiscountImpact(has_discounts=bool(has_discounts), has_cost=bool(has_cost), categories=tuple(rows))


def discount_impact_get(*, sales_filter: SalesFilter) -> DiscountImpact:
    """One row per category with lines in scope (by net sales, highest first), and the data's flags."""
    return scoped_answer("discount_impact", sales_filter, _discount_impact)
