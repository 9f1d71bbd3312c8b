"""A `SalesFilter` turned into SQL over the read model's tables, and the helpers every sales reader
shares (money rounding, shares, running a query).

Definitions every sales reader shares (documented once, here and in the API schema):

- money (gross, discount, net, cost) sums every line in scope, returns included (a return's
  amounts are negative), from `SalesDaily`;
- units: quantities summed, returns subtracting;
- a transaction is one invoice number on one day in one store for one customer (see
  `SalesTransaction`). It is counted when it holds at least one purchase line (not a return) in
  scope: with a category filter, a purchase line in one of those categories. Returns-only invoices
  are not transactions. Without a category filter or with exactly one category, transactions add
  up across days and stores and are counted from `CategoryTransactionsDaily`;
- customers: distinct customers with at least one transaction in scope; without any filter, or with
  dates alone that run from the data's first day or to its last, read from `CustomerSummary` (so
  the answers an import computes cost what the customers do, not what the history does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar

from django.db import connection

from analytics.warehouse.answers import answer_get
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.filters import Dimensions, SalesFilter, dimensions_get

T = TypeVar("T")


def ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    """part / whole as a float, None when the whole is zero."""
    if not whole:
        return None
    return float(Decimal(part) / Decimal(whole))


class Scope:
    """A SalesFilter resolved against the current data: ids instead of names, and SQL fragments."""

    def __init__(self, *, sales_filter: SalesFilter, data_version: int | None = None) -> None:
        self.sales_filter = sales_filter
        self.data_version = data_version

    @cached_property
    def dimensions(self) -> Dimensions:
        return dimensions_get(data_version=self.data_version)

    @property
    def store_ids(self) -> list[int]:
        # A name unknown to this data version matches nothing (sales_filter_from_params refuses it).
        return [self.dimensions.store_ids[n] for n in self.sales_filter.stores if n in self.dimensions.store_ids]

    @property
    def category_ids(self) -> list[int]:
        ids = self.dimensions.category_ids
        return [ids[name] for name in self.sales_filter.categories if name in ids]

    def common_where(self) -> tuple[list[str], list[Any]]:
        """The date and store conditions (columns every rollup shares), as clauses and parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.sales_filter.date_from:
            clauses.append("date >= %s")
            params.append(self.sales_filter.date_from)
        if self.sales_filter.date_to:
            clauses.append("date <= %s")
            params.append(self.sales_filter.date_to)
        if self.sales_filter.stores:
            clauses.append("store_id = ANY(%s)")
            params.append(self.store_ids)
        return clauses, params

    def daily_where(self) -> tuple[str, list[Any]]:
        """WHERE clause over `analytics_salesdaily`: the day-level rows in scope."""
        clauses, params = self.common_where()
        if self.sales_filter.categories:
            clauses.append("category_id = ANY(%s)")
            params.append(self.category_ids)
        return " AND ".join(clauses) or "TRUE", params

    def transactions_where(self) -> tuple[str, list[Any]]:
        """WHERE clause over `analytics_salestransaction`: those counted (a purchase line in scope)."""
        clauses, params = self.common_where()
        if self.sales_filter.categories:
            clauses.append("purchase_category_ids && %s::bigint[]")
            params.append(self.category_ids)
        else:
            clauses.append("purchase_lines > 0")
        return " AND ".join(clauses), params

    @property
    def unfiltered(self) -> bool:
        """Every date, store and category: customers are counted from their summaries."""
        sales_filter = self.sales_filter
        return not (sales_filter.date_from or sales_filter.date_to or sales_filter.stores or sales_filter.categories)

    def summaries_where(self) -> tuple[str, list[Any]] | None:
        """WHERE over `analytics_customersummary` for the customers in scope, where the summaries can
        tell them: no store or category, and dates that run from the data's first day (the customers
        with a first purchase by the last date) or to its last day (with a last purchase from the first
        date): "the year to date", "the last 90 days", the year before all the data. None otherwise."""
        sales_filter = self.sales_filter
        if sales_filter.stores or sales_filter.categories:
            return None
        coverage = data_coverage_get(data_version=self.data_version)
        if not coverage:
            return None
        date_from, date_to = sales_filter.date_from, sales_filter.date_to
        from_start = date_from is None or date_from <= coverage[0].start
        to_end = date_to is None or date_to >= coverage[-1].end
        if from_start and to_end:
            return "purchase_transactions > 0", []
        if from_start:
            return "first_purchase_date <= %s", [date_to]
        if to_end:
            return "last_purchase_date >= %s", [date_from]
        return None

    @property
    def counted_by_day(self) -> bool:
        """Whether transactions in scope are counted from `CategoryTransactionsDaily`: the filter names
        no category (its rows for every category) or exactly one."""
        return len(self.sales_filter.categories) <= 1

    def category_transactions_where(self, *, by_payment_method: bool) -> tuple[str, list[Any]]:
        """WHERE clause over `analytics_categorytransactionsdaily` for the category in scope (or every
        category): its rows per payment method, or its rows over every method."""
        clauses, params = self.common_where()
        if self.sales_filter.categories:
            clauses.append("category_id = %s")
            params.append(self.category_ids[0])
        else:
            clauses.append("category_id IS NULL")
        clauses.append("payment_method_id IS NOT NULL" if by_payment_method else "payment_method_id IS NULL")
        return " AND ".join(clauses), params


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def scoped_answer(name: str, sales_filter: SalesFilter, compute: Callable[[Scope], T]) -> T:
    """compute(scope) for the filter, cached under the data version and the filter."""
    return answer_get(
        name, sales_filter.cache_key, lambda version: compute(Scope(sales_filter=sales_filter, data_version=version))
    )
