"""Comparisons between date ranges: which range a period is compared with, how much of each the data
covers, and a figure's change against its comparison value. Pure computation (no database); ranges
and coverage come from analytics.periods.

Comparisons. For a current range of n days:
- `previous_period`: the n days just before it (1-31 March 2023 against 29 January - 28 February
  2023);
- `previous_year`: the same calendar dates one year earlier, each end moved back one year, with
  29 February mapped to 28 February (29 February 2024 against 28 February 2023; 1-29 February 2024
  against 1-28 February 2023). The two ranges can therefore differ by a day around a leap day, and
  their weekdays differ (a year is 52 weeks and one or two days).
A `Change` of a figure against its comparison value: `absolute` = current - base and `relative` =
(current - base) / |base| (rounded to 4 decimals; divided by the absolute base so that a rise from
a negative net, returns outweighing sales, reads as a rise). Both are `None` when the comparison
range has no data at all (no day of it covered: the base is unknown, not zero); `relative` is also
`None` when the base is zero. `partial` is true when the comparison range or the current range is
only partly covered by the data: the issue asks it of the comparison range, and a current range
running past the end of the data makes the same false drop. To compare a year to date with the same
dates a year earlier, narrow the current range to the data first (`DateRange.intersection`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from analytics.periods import DateRange, days_covered

CompareKind = Literal["previous_period", "previous_year"]
COMPARE_KINDS: tuple[CompareKind, ...] = ("previous_period", "previous_year")

Number = TypeVar("Number", Decimal, int, float)


def same_day_a_year_earlier(day: date) -> date:
    """The same calendar date one year earlier; 29 February becomes 28 February."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def previous_period(current: DateRange) -> DateRange:
    """The same number of days just before `current`."""
    end = current.start - timedelta(days=1)
    return DateRange(end - timedelta(days=current.days - 1), end)


def previous_year(current: DateRange) -> DateRange:
    """The same calendar dates a year earlier (29 February maps to 28 February)."""
    return DateRange(same_day_a_year_earlier(current.start), same_day_a_year_earlier(current.end))


def comparison_range(current: DateRange, compare: CompareKind) -> DateRange:
    if compare == "previous_period":
        return previous_period(current)
    if compare == "previous_year":
        return previous_year(current)
    raise ValueError(f"Unknown comparison {compare!r}: one of {', '.join(COMPARE_KINDS)}.")


@dataclass(frozen=True)
class Comparison:
    """The current range, the range it is compared with, and how much of each the data covers."""

    compare: CompareKind
    current: DateRange
    base: DateRange
    current_days_covered: int
    base_days_covered: int
    has_base_data: bool = field(init=False)  # some day of the comparison range is in the data
    partial: bool = field(init=False)  # a range with data that the data covers only in part

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_base_data", self.base_days_covered > 0)
        object.__setattr__(
            self,
            "partial",
            self.base_days_covered > 0
            and (self.base_days_covered < self.base.days or self.current_days_covered < self.current.days),
        )


def comparison(
    current: DateRange,
    compare: CompareKind,
    *,
    data: DateRange | None = None,
    coverage: Sequence[DateRange] | None = None,
) -> Comparison:
    """Compare `current` with its previous period or previous year; the data covers `coverage` (its
    imports' spans) or the single span `data` (None: empty)."""
    spans = tuple(coverage) if coverage is not None else ((data,) if data else ())
    base = comparison_range(current, compare)
    return Comparison(
        compare=compare,
        current=current,
        base=base,
        current_days_covered=days_covered(current, spans),
        base_days_covered=days_covered(base, spans),
    )


@dataclass(frozen=True)
class Change(Generic[Number]):
    """A figure against its comparison value."""

    value: Number
    base: Number | None  # None when the comparison range has no data
    absolute: Number | None  # value - base
    relative: float | None  # (value - base) / |base|, 4 decimals; None when the base is 0 or unknown
    partial: bool  # a range only partly covered by the data: not like for like


def change(value: Number, base: Number, *, against: Comparison) -> Change[Number]:
    """The absolute and relative change of `value` against `base` (see the module docstring for the rules)."""
    if not against.has_base_data:
        return Change(value=value, base=None, absolute=None, relative=None, partial=False)
    absolute = value - base
    relative = None
    if base != 0:
        exact = (Decimal(value) - Decimal(base)) / abs(Decimal(base))
        relative = round(float(exact), 4)
    return Change(value=value, base=base, absolute=absolute, relative=relative, partial=against.partial)
