"""The one filter every sales selector takes, and the one function that reads it from query parameters.

Filters (all optional, combined with AND):

- `date_from`, `date_to`: ISO dates (YYYY-MM-DD), both inclusive;
- `store`, `category`: names, repeatable (`?store=Kanyon&store=Metrocity`); a line matches when its
  store is one of the stores given (and likewise for categories).

Bad values are refused with a 400 that says why: a date that is not YYYY-MM-DD, `date_from` after
`date_to`, or a store or category name that does not exist (the error lists the valid names, so
a typo is never mistaken for "no sales"). Blank values (`?store=`) are ignored.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from analytics.models import Category, PaymentMethod, Store
from analytics.warehouse.answers import process_cached, question_key
from analytics.warehouse.version import data_version_get
from retail_platform.errors import ApplicationError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class QueryParams(Protocol):
    def getlist(self, key: str, default: Any = ...) -> list[str]: ...


@dataclass(frozen=True)
class SalesFilter:
    """Which lines count: dates inclusive; empty `stores` / `categories` mean all of them.

    Build it with `sales_filter_from_params` (validates) or directly (names sorted, no duplicates).
    """

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    stores: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == SalesFilter()

    @property
    def cache_key(self) -> str:
        return question_key(
            self.date_from, self.date_to, tuple(sorted(set(self.stores))), tuple(sorted(set(self.categories)))
        )


@dataclass(frozen=True)
class Dimensions:
    """Names and ids of the stores, categories and payment methods (cached per data version)."""

    store_ids: Mapping[str, int]
    category_ids: Mapping[str, int]
    payment_method_ids: Mapping[str, int]

    def store_names(self) -> dict[int, str]:
        return {pk: name for name, pk in self.store_ids.items()}

    def category_names(self) -> dict[int, str]:
        return {pk: name for name, pk in self.category_ids.items()}

    def payment_method_names(self) -> dict[int, str]:
        return {pk: name for name, pk in self.payment_method_ids.items()}


def dimensions_get(*, data_version: int | None = None) -> Dimensions:
    """The stores, categories and payment methods of the data version (the current one unless given)."""
    version = data_version_get() if data_version is None else data_version
    return process_cached("dimensions", version, _dimensions_read)


def _dimensions_read() -> Dimensions:
    return Dimensions(
        store_ids=dict(Store.objects.values_list("name", "pk")),
        category_ids=dict(Category.objects.values_list("name", "pk")),
        payment_method_ids=dict(PaymentMethod.objects.values_list("name", "pk")),
    )


def _parse_date(params: QueryParams, name: str) -> datetime.date | None:
    values = [value.strip() for value in params.getlist(name) if value.strip()]
    if not values:
        return None
    if len(values) > 1:
        raise ApplicationError(f"{name} is given more than once.", {name: values})
    try:
        if not _ISO_DATE.fullmatch(values[0]):
            raise ValueError(values[0])
        return datetime.date.fromisoformat(values[0])
    except ValueError:
        raise ApplicationError(
            f"{name} must be a date written YYYY-MM-DD, not {values[0]!r}.", {name: values[0]}
        ) from None


def _names(params: QueryParams, name: str) -> tuple[str, ...]:
    return tuple(sorted({value.strip() for value in params.getlist(name) if value.strip()}))


def _check_names(kind: str, param: str, given: tuple[str, ...], valid: Mapping[str, int]) -> None:
    unknown = [name for name in given if name not in valid]
    if unknown:
        raise ApplicationError(
            f"Unknown {kind}: {', '.join(unknown)}. Valid {param} values: {', '.join(sorted(valid)) or 'none yet'}.",
            {param: unknown, f"valid_{param}_values": sorted(valid)},
        )


def sales_filter_from_params(params: QueryParams) -> SalesFilter:
    """Read `date_from`, `date_to`, `store` and `category` from query parameters (a QueryDict).

    Raises ApplicationError (400) naming the parameter and the reason for any bad value.
    """
    date_from = _parse_date(params, "date_from")
    date_to = _parse_date(params, "date_to")
    if date_from and date_to and date_from > date_to:
        raise ApplicationError(
            f"date_from ({date_from.isoformat()}) is after date_to ({date_to.isoformat()}).",
            {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
    stores = _names(params, "store")
    categories = _names(params, "category")
    if stores or categories:
        dimensions = dimensions_get()
        _check_names("store", "store", stores, dimensions.store_ids)
        _check_names("category", "category", categories, dimensions.category_ids)
    return SalesFilter(date_from=date_from, date_to=date_to, stores=stores, categories=categories)
