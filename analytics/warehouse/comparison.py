"""This period against the last one or the same dates a year earlier, for any sales reader.

The current range is the filter's dates (the data's whole span when a date is not given); the
comparison range is `previous_period` (the same number of days just before) or `previous_year` (the
same dates a year earlier), see analytics.periods. The reader answers again for the comparison range
with the same stores and categories, and `changes` walks both answers: every figure (money, counts,
shares) gets its absolute and relative change, rows (stores, payment methods, categories, customer
types) are matched by name and periods (months, quarters) by their place: a year back for
previous_year, position for previous_period. A change is null where the comparison range has no data,
its relative part also where the base is zero; `partial` says a range the data covers only in part.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

from analytics.comparisons import COMPARE_KINDS, CompareKind, Comparison, change, comparison
from analytics.periods import DateRange
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.filters import SalesFilter
from retail_platform.errors import ApplicationError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Compared(Generic[T]):
    against: Comparison
    base: T  # the reader's answer for the comparison range
    changes: dict[str, Any]  # the answer's shape: per figure {"base", "absolute", "relative"}


def compare_kind_from_params(params: Any) -> CompareKind | None:
    """`compare` from query parameters: None when absent, a 400 naming the valid values otherwise."""
    value = (params.get("compare") or "").strip()
    if not value:
        return None
    if value not in COMPARE_KINDS:
        raise ApplicationError(
            f"compare must be one of: {', '.join(COMPARE_KINDS)}, not {value!r}.",
            {"compare": value, "valid_compare_values": list(COMPARE_KINDS)},
        )
    return value  # type: ignore[return-value]


def compared_get(
    reader: Callable[..., T], *, sales_filter: SalesFilter, compare: CompareKind, current: T
) -> Compared[T] | None:
    """The reader's answer for the comparison range, and the changes from it to `current` (the reader's
    answer for the filter); None without data."""
    coverage = data_coverage_get()
    if not coverage:
        return None
    current_range = DateRange(sales_filter.date_from or coverage[0].start, sales_filter.date_to or coverage[-1].end)
    against = comparison(current_range, compare, coverage=coverage)
    base_filter = dataclasses.replace(sales_filter, date_from=against.base.start, date_to=against.base.end)
    base = reader(sales_filter=base_filter)
    return Compared(against=against, base=base, changes=changes(current, base, against=against))


def _key(row: Any) -> Any:
    for field in dataclasses.fields(row):
        value = getattr(row, field.name)
        if isinstance(value, str):
            return value
    return getattr(row, dataclasses.fields(row)[0].name)


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _change(value: Any, base: Any, against: Comparison) -> dict[str, Any]:
    if value is None:
        return {"base": None, "absolute": None, "relative": None}
    found = change(value, base if base is not None else type(value)(0), against=against)
    absolute = round(found.absolute, 6) if isinstance(found.absolute, float) else found.absolute
    return {"base": found.base, "absolute": absolute, "relative": found.relative}


def changes(current: Any, base: Any, *, against: Comparison) -> Any:
    """The changes from `base` to `current`, in `current`'s shape (see the module docstring)."""
    if dataclasses.is_dataclass(current):
        out = {}
        for field in dataclasses.fields(current):
            value = getattr(current, field.name)
            other = getattr(base, field.name, None) if base is not None else None
            if _number(value) or (value is None and _number(other)):
                out[field.name] = _change(value, other, against)
            elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
                out[field.name] = changes(value, other or (), against=against)
        return out
    if isinstance(current, tuple):
        if current and hasattr(current[0], "start") and hasattr(current[0], "label"):
            return _period_changes(current, base, against)
        base_rows = {_key(row): row for row in base}
        return {str(_key(row)): changes(row, base_rows.get(_key(row)), against=against) for row in current}
    return {}


def _period_changes(current: tuple, base: tuple, against: Comparison) -> dict[str, Any]:
    """Periods matched a year back (previous_year) or by position (previous_period)."""
    if against.compare == "previous_year":
        by_start = {row.start: row for row in base}
        matched = [by_start.get(_year_back(row.start)) for row in current]
    else:
        matched = [base[index] if index < len(base) else None for index in range(len(current))]
    return {row.label: changes(row, other, against=against) for row, other in zip(current, matched, strict=True)}


def _year_back(day: datetime.date) -> datetime.date:
    return day.replace(year=day.year - 1)


def comparison_json(compared: Compared[Any], *, base_json: Any) -> dict[str, Any]:
    """The comparison as the API sends it next to the answer."""
    against = compared.against
    return {
        "compare": against.compare,
        "current": {"date_from": against.current.start.isoformat(), "date_to": against.current.end.isoformat()},
        "base": {
            "date_from": against.base.start.isoformat(),
            "date_to": against.base.end.isoformat(),
            "days": against.base.days,
            "days_covered": against.base_days_covered,
        },
        "has_data": against.has_base_data,
        "partial": against.partial,
        "answer": base_json,
        "changes": _json(compared.changes),
    }


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value
