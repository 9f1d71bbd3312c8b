"""Shared plumbing of the sales selectors: the filter turned into SQL over the rollups, and the cache
(also used by the API to cache its rendered answers the same way).

Definitions every selector shares (documented once, here and in the API schema):

- money (gross, discount, net, cost) sums every line in scope, returns included (a return's
  amounts are negative), from `SalesDaily`;
- units: quantities summed, returns subtracting;
- a transaction is one invoice number on one day in one store for one customer (see
  `SalesTransaction`). It is counted when it holds at least one purchase line (not a return) in
  scope: with a category filter, a purchase line in one of those categories. Returns-only invoices
  are not transactions. With exactly one category in the filter, transactions per month and per
  payment method add up across days and stores and are read from `CategoryTransactionsDaily`;
- customers: distinct customers with at least one transaction in scope.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection

from analytics.selectors.filters import CACHE_SECONDS, Dimensions, SalesFilter, dimensions_get
from analytics.services.rollups import data_version_get, transactions_rollup_is_current, transactions_source

T = TypeVar("T")
# Part of every cache key: bump it when a selector's dataclasses change shape, so that answers stored
# by the previous code (SalesAnswer outlives a deploy) are not read back.
ANSWER_FORMAT = 1
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | None) -> Decimal:
    """A money amount rounded to cents (half up); None (an empty sum) is zero."""
    if value is None:
        return ZERO
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    """part / whole as a float, None when the whole is zero."""
    if not whole:
        return None
    return float(Decimal(part) / Decimal(whole))


class Scope:
    """A SalesFilter resolved against one data version: ids instead of names, and SQL fragments."""

    def __init__(self, *, data_version: int, sales_filter: SalesFilter) -> None:
        self.data_version = data_version
        self.sales_filter = sales_filter

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
        """WHERE clause over transactions: those counted (a purchase line in scope)."""
        clauses, params = self.common_where()
        if self.sales_filter.categories:
            clauses.append("purchase_category_ids && %s::bigint[]")
            params.append(self.category_ids)
        else:
            clauses.append("cardinality(purchase_category_ids) > 0")
        return " AND ".join(clauses), params

    def transactions_from(self) -> str:
        """The FROM item for transactions: the rollup table, or the same rows computed from the lines."""
        return transactions_source(data_version=self.data_version)

    @cached_property
    def one_category_counted(self) -> bool:
        """Whether transactions in scope are counted from `CategoryTransactionsDaily`: the filter
        names exactly one category, and the rollups are current."""
        return len(self.sales_filter.categories) == 1 and transactions_rollup_is_current(data_version=self.data_version)

    def category_transactions_where(self, *, by_payment_method: bool) -> tuple[str, list[Any]]:
        """WHERE clause over `analytics_categorytransactionsdaily` for the one category in scope: its
        rows per payment method, or its rows over every method."""
        clauses, params = self.common_where()
        clauses.append("category_id = %s")
        params.append(self.category_ids[0])
        clauses.append("payment_method_id IS NOT NULL" if by_payment_method else "payment_method_id IS NULL")
        return " AND ".join(clauses), params


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def cached(name: str, sales_filter: SalesFilter, compute: Callable[[Scope], T]) -> T:
    """compute(scope), cached under the data version and the filter, at two levels.

    First this process's Django cache; then `SalesAnswer`, shared by every worker and process (so
    a new web worker does not compute again what another has, and the unfiltered answers the
    rebuild task precomputed are read, not computed). A computed answer is stored in both.
    """
    data_version = data_version_get()
    key = f"analytics:{name}:v{data_version}:f{ANSWER_FORMAT}:{sales_filter.cache_key}"
    result = cache.get(key)
    if result is not None:
        return result
    stored = fetch("SELECT value FROM analytics_salesanswer WHERE key = %s", [key])
    if stored:
        result = pickle.loads(stored[0][0])  # noqa: S301 (written by this application only)
    if result is None:
        scope = Scope(data_version=data_version, sales_filter=sales_filter)
        result = compute(scope)
        fetch(
            "INSERT INTO analytics_salesanswer (key, data_version, value, created_at) VALUES (%s, %s, %s, now()) "
            "ON CONFLICT (key) DO NOTHING RETURNING 1",
            [key, data_version, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)],
        )
    cache.set(key, result, CACHE_SECONDS)
    return result
