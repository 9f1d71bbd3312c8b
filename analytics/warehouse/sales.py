"""Sales totals: the overview, one row per store, one row per payment method.

Every selector takes a `SalesFilter` and returns frozen dataclasses; money is Decimal rounded to
cents, shares are floats. Definitions (transactions, customers, returns) are in
`analytics.warehouse.scope`. Results are cached per data version and filter.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.scope import Scope, fetch, ratio, scoped_answer
from retail_platform.money import money


@dataclass(frozen=True)
class Overview:
    gross_sales: Decimal
    discount: Decimal
    net_sales: Decimal
    transactions: int
    units: int
    customers: int
    # Net sales per transaction; None without transactions.
    avg_basket: Decimal | None
    # First and last day with a line in scope; None when nothing is in scope.
    first_date: datetime.date | None
    last_date: datetime.date | None


@dataclass(frozen=True)
class StorePerformance:
    store: str
    gross_sales: Decimal
    discount: Decimal
    net_sales: Decimal
    transactions: int
    units: int
    customers: int
    avg_basket: Decimal | None
    # The store's net sales over the net sales of every store in scope; None when that total is zero.
    share_of_sales: float | None


@dataclass(frozen=True)
class PaymentMethodSales:
    payment_method: str
    gross_sales: Decimal
    discount: Decimal
    net_sales: Decimal
    # Transactions in scope with a purchase line in scope paid this way (a transaction paid two ways
    # counts for both, so these can add up to more than the overview's transactions).
    transactions: int
    units: int
    share_of_sales: float | None


def avg_basket(net_sales: Decimal, transactions: int) -> Decimal | None:
    return money(net_sales / transactions) if transactions else None


def _overview(scope: Scope) -> Overview:
    where, params = scope.daily_where()
    gross, discount, net, units, first, last = fetch(
        "SELECT sum(gross_sales), sum(discount), sum(net_sales), sum(units), min(date), max(date) "
        f"FROM analytics_salesdaily WHERE {where}",
        params,
    )[0]
    summaries = scope.summaries_where()
    if scope.unfiltered:
        transactions, customers = fetch(
            "SELECT coalesce(sum(purchase_transactions), 0), count(*) FILTER (WHERE purchase_transactions > 0) "
            "FROM analytics_customersummary",
            [],
        )[0]
    elif summaries:
        where, params = scope.category_transactions_where(by_payment_method=False)
        customers_where, customers_params = summaries
        transactions, customers = fetch(
            f"SELECT (SELECT coalesce(sum(transactions), 0) FROM analytics_categorytransactionsdaily WHERE {where}),"
            f" (SELECT count(*) FROM analytics_customersummary WHERE {customers_where})",
            [*params, *customers_params],
        )[0]
    else:
        where, params = scope.transactions_where()
        # count(DISTINCT) sorts the customer ids: a third faster here than grouping them with their counts.
        transactions, customers = fetch(
            f"SELECT count(*), count(DISTINCT customer_id) FROM analytics_salestransaction AS t WHERE {where}",
            params,
        )[0]
    net = money(net)
    return Overview(
        gross_sales=money(gross),
        discount=money(discount),
        net_sales=net,
        transactions=int(transactions),
        units=int(units or 0),
        customers=int(customers),
        avg_basket=avg_basket(net, int(transactions)),
        first_date=first,
        last_date=last,
    )


def overview_get(*, sales_filter: SalesFilter) -> Overview:
    """Gross, discount and net sales, transactions, units, customers, average basket and the dates covered."""
    return scoped_answer("overview", sales_filter, _overview)


def _store_performance(scope: Scope) -> tuple[StorePerformance, ...]:
    where, params = scope.daily_where()
    money_rows = fetch(
        "SELECT store_id, sum(gross_sales), sum(discount), sum(net_sales), sum(units) "
        f"FROM analytics_salesdaily WHERE {where} GROUP BY store_id",
        params,
    )
    counts = _store_counts(scope)
    total_net = sum((money(row[3]) for row in money_rows), Decimal(0))
    names = scope.dimensions.store_names()
    rows = []
    for store_id, gross, discount, net, units in money_rows:
        transactions, customers = counts.get(store_id, (0, 0))
        rows.append(
            StorePerformance(
                store=names.get(store_id, str(store_id)),
                gross_sales=money(gross),
                discount=money(discount),
                net_sales=money(net),
                transactions=transactions,
                units=int(units),
                customers=customers,
                avg_basket=avg_basket(money(net), transactions),
                share_of_sales=ratio(money(net), total_net),
            )
        )
    rows.sort(key=lambda row: (-row.net_sales, row.store))
    return tuple(rows)


def _store_counts(scope: Scope) -> dict[int, tuple[int, int]]:
    """Per store: (transactions, customers) in scope."""
    if scope.unfiltered:
        where, params = scope.category_transactions_where(by_payment_method=False)
        transactions = fetch(
            f"SELECT store_id, sum(transactions) FROM analytics_categorytransactionsdaily WHERE {where} "
            "GROUP BY store_id",
            params,
        )
        customers = dict(
            fetch(
                "SELECT store_id, count(*) FROM analytics_customersummary, unnest(purchase_store_ids) AS store_id "
                "GROUP BY store_id",
                [],
            )
        )
        return {store_id: (int(n), int(customers.get(store_id, 0))) for store_id, n in transactions}
    where, params = scope.transactions_where()
    return {
        store_id: (int(transactions), int(customers))
        for store_id, transactions, customers in fetch(
            "SELECT store_id, sum(n), count(*) FROM "
            f"(SELECT store_id, customer_id, count(*) AS n FROM analytics_salestransaction AS t WHERE {where} "
            "GROUP BY store_id, customer_id) AS per_store_customer GROUP BY store_id",
            params,
        )
    }


def store_performance_list(*, sales_filter: SalesFilter) -> tuple[StorePerformance, ...]:
    """One row per store with lines in scope, by net sales, highest first (ties by name)."""
    return scoped_answer("store_performance", sales_filter, _store_performance)


def _payment_methods(scope: Scope) -> tuple[PaymentMethodSales, ...]:
    where, params = scope.daily_where()
    money_rows = fetch(
        "SELECT payment_method_id, sum(gross_sales), sum(discount), sum(net_sales), sum(units) "
        f"FROM analytics_salesdaily WHERE {where} GROUP BY payment_method_id",
        params,
    )
    transactions = dict(_payment_method_transactions(scope))
    total_net = sum((money(row[3]) for row in money_rows), Decimal(0))
    names = scope.dimensions.payment_method_names()
    rows = [
        PaymentMethodSales(
            payment_method=names.get(method_id, str(method_id)),
            gross_sales=money(gross),
            discount=money(discount),
            net_sales=money(net),
            transactions=int(transactions.get(method_id, 0)),
            units=int(units),
            share_of_sales=ratio(money(net), total_net),
        )
        for method_id, gross, discount, net, units in money_rows
    ]
    rows.sort(key=lambda row: (-row.net_sales, row.payment_method))
    return tuple(rows)


def _payment_method_transactions(scope: Scope) -> list[tuple[Any, ...]]:
    """(payment method id, transactions paid in part with it) in scope."""
    if scope.counted_by_day:
        where, params = scope.category_transactions_where(by_payment_method=True)
        return fetch(
            f"SELECT payment_method_id, sum(transactions) FROM analytics_categorytransactionsdaily WHERE {where} "
            "GROUP BY payment_method_id",
            params,
        )
    where, params = scope.transactions_where()
    category_ids = scope.category_ids if scope.sales_filter.categories else None
    part_in_scope = "part.purchase_lines > 0" + (" AND part.category_id = ANY(%s)" if category_ids is not None else "")
    return fetch(
        "SELECT payment_method_id, count(*) FROM "
        f"analytics_salestransaction AS t CROSS JOIN LATERAL ("
        "SELECT DISTINCT part.payment_method_id FROM unnest(t.part_category_ids, t.part_payment_method_ids, "
        "t.part_purchase_lines) AS part(category_id, payment_method_id, purchase_lines) "
        f"WHERE {part_in_scope}) AS methods WHERE {where} GROUP BY payment_method_id",
        ([category_ids] if category_ids is not None else []) + params,
    )


def payment_method_list(*, sales_filter: SalesFilter) -> tuple[PaymentMethodSales, ...]:
    """One row per payment method with lines in scope, by net sales, highest first."""
    return scoped_answer("payment_methods", sales_filter, _payment_methods)
