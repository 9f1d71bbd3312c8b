"""Repeat versus one-time customers.

A customer's transactions are counted within the filter (dates, stores, categories): a *repeat*
customer has two or more transactions in scope, a *one-time* customer exactly one (a transaction
is one invoice on one day in one store; returns-only invoices are not transactions, see
`analytics.warehouse.scope`). Customers without a transaction in scope belong to neither.

`net_sales` of a type is the net amount of every line in scope of its customers, their returns
included. `share_of_sales` divides it by the net sales of everything in scope (the overview's), so
the two shares add up to less than 1 exactly when customers with only returns in scope exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.scope import Scope, fetch, ratio, scoped_answer
from retail_platform.money import money

REPEAT = "repeat"
ONE_TIME = "one_time"


@dataclass(frozen=True)
class CustomerTypeSales:
    customer_type: str  # "repeat" or "one_time"
    customers: int
    transactions: int
    net_sales: Decimal
    share_of_sales: float | None


def _customer_types(scope: Scope) -> tuple[CustomerTypeSales, ...]:
    clauses, common_params = scope.common_where()
    if scope.sales_filter.categories:
        categories = scope.category_ids
        counted = "purchase_category_ids && %s::bigint[]"
        net_in_scope = (
            "(SELECT coalesce(sum(part.net_amount), 0) FROM unnest(part_category_ids, part_net_amounts) "
            "AS part(category_id, net_amount) WHERE part.category_id = ANY(%s))"
        )
        clauses = [*clauses, "part_category_ids && %s::bigint[]"]
        params = [categories, categories, *common_params, categories]
    else:
        counted = "purchase_lines > 0"
        net_in_scope = "net_amount"
        params = common_params
    where = " AND ".join(clauses) or "TRUE"
    # Without a filter, each customer's count and net are their summary's.
    per_customer = (
        "SELECT purchase_transactions AS n, net FROM analytics_customersummary"
        if scope.unfiltered
        else f"SELECT customer_id, count(*) FILTER (WHERE {counted}) AS n, sum({net_in_scope}) AS net "
        f"FROM analytics_salestransaction AS t WHERE {where} GROUP BY customer_id"
    )
    per_type = {
        is_repeat: (int(customers), int(transactions), money(net))
        for is_repeat, customers, transactions, net in fetch(
            f"SELECT n >= 2, count(*), sum(n), sum(net) FROM ({per_customer}) AS per_customer WHERE n > 0 GROUP BY 1",
            [] if scope.unfiltered else params,
        )
    }
    where_daily, params_daily = scope.daily_where()
    total_net = money(fetch(f"SELECT sum(net_sales) FROM analytics_salesdaily WHERE {where_daily}", params_daily)[0][0])
    rows = []
    for customer_type, is_repeat in ((REPEAT, True), (ONE_TIME, False)):
        customers, transactions, net = per_type.get(is_repeat, (0, 0, money(0)))
        rows.append(
            CustomerTypeSales(
                customer_type=customer_type,
                customers=customers,
                transactions=transactions,
                net_sales=net,
                share_of_sales=ratio(net, total_net),
            )
        )
    return tuple(rows)


def customer_type_list(*, sales_filter: SalesFilter) -> tuple[CustomerTypeSales, ...]:
    """Two rows, repeat then one_time: customers, transactions, net sales and share of sales."""
    return scoped_answer("customer_types", sales_filter, _customer_types)
