"""Calendar periods and how much of each the data covers (comparisons between ranges: analytics.comparisons).

Pure computation on dates and Decimals; no database. The read model passes in the data's first and
last day and the totals it read; these functions say which periods there are and how honest each
figure is.

Periods. A period is a calendar week (ISO 8601: Monday to Sunday, labelled with the ISO year and
week, `2023-W09`; the last days of December can belong to week 1 of the next ISO year and the first
days of January to week 52 or 53 of the previous one), month (`2023-03`), quarter (`2023-Q1`) or
year (`2023`). `start` and `end` are the calendar bounds of the period (both inclusive), whatever
the data covers.

Coverage. The data covers the spans its imports cover (each import covers its first to its last
day), or, given as one span, every day from its first to its last day; a requested date range
(`date_from`, `date_to`, both inclusive) narrows that. Years between an old import and a new one
are not covered: their sales are unknown, and their periods are left off the axis rather than
drawn as zeros. A day covered without sales is a real zero;
a day outside the data is unknown. So the data's first and last day mean the span of the data set
(the imports), not the first and last sale under a store or category filter: a store without sales
in a month had a zero month. `days_covered` counts the days of a period inside both the data and
the requested range, `days_in_period` the days of the calendar period, and `partial` is true when
`days_covered < days_in_period`: in practice the first and last period of an axis, when the data or
the range starts or ends inside them (the demo data ends on 8 March 2023, so March 2023 holds 8 of
31 days and is partial).

Continuous axis. `period_axis` lists every period from the one holding the first covered day to
the one holding the last, none skipped; `on_axis` puts totals keyed by period start (what
PostgreSQL's `date_trunc('week' | 'month' | 'quarter' | 'year', day)` gives) on that axis, so a
month without sales is present with a zero rather than left out (two distant months never end up
side by side). A key that is not the start of a period on the axis is an error, never dropped.

Month-of-year averages. For each calendar month (1-12) the average of its totals over the years in
which that month is completely covered; a partly covered month (the first or last month of the data
or range) is left out of the average and listed in `left_out`. A completely covered month without
sales counts as a zero. Left out rather than scaled up per covered day: a few days of a month are
not a fair sample of it (weekends, paydays, a holiday or a sale fall where they fall), and an
average over fewer years is honest about what it knows. A month of the year with no complete month
has no average (`None`). The demo's March is therefore (2.53 M + 2.62 M) / 2 over 2021 and 2022,
with 2023 (8 of 31 days) left out, instead of (2.53 M + 2.62 M + 0.67 M) / 3.

Day numbers. The read model's arrays count days from 2000-01-01 (day 0); `period_index` maps such
day numbers to consecutive integers per period kind (vectorised), and `period_start_of_index` back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from retail_platform.money import money

PeriodKind = Literal["week", "month", "quarter", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("week", "month", "quarter", "year")

EPOCH = date(2000, 1, 1)  # day 0 of the read model's day numbers (a Saturday)
# The Monday on or before the epoch: week index 0 starts there.
_WEEK_EPOCH_OFFSET = EPOCH.weekday()  # 5: 1999-12-27 is day -5

IntArray = npt.NDArray[np.int64]
T = TypeVar("T")


def _check_kind(kind: str) -> None:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"Unknown period {kind!r}: one of {', '.join(PERIOD_KINDS)}.")


def period_start(day: date, kind: PeriodKind) -> date:
    """The first day of the period holding `day`."""
    _check_kind(kind)
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def next_period_start(start: date, kind: PeriodKind) -> date:
    """The first day of the period after the one starting (or holding) `start`."""
    start = period_start(start, kind)
    if kind == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_end(day: date, kind: PeriodKind) -> date:
    """The last day (inclusive) of the period holding `day`."""
    return next_period_start(day, kind) - timedelta(days=1)


def period_label(day: date, kind: PeriodKind) -> str:
    """`2023-W09` (ISO year and week), `2023-03`, `2023-Q1` or `2023` for the period holding `day`."""
    start = period_start(day, kind)
    if kind == "week":
        iso_year, iso_week, _ = start.isocalendar()
        return f"{iso_year}-W{iso_week:02d}"
    if kind == "month":
        return f"{start:%Y-%m}"
    if kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


@dataclass(frozen=True)
class DateRange:
    """Days from `start` to `end`, both inclusive."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"A date range cannot start ({self.start}) after it ends ({self.end}).")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def intersection(self, other: DateRange | None) -> DateRange | None:
        """The days in both ranges, None when they do not overlap (or `other` is None)."""
        if other is None:
            return None
        start, end = max(self.start, other.start), min(self.end, other.end)
        return DateRange(start, end) if start <= end else None

    def days_in(self, other: DateRange | None) -> int:
        """How many of this range's days are in `other` (0 when None)."""
        overlap = self.intersection(other)
        return overlap.days if overlap else 0


def covered_span(
    *, first_day: date | None, last_day: date | None, date_from: date | None = None, date_to: date | None = None
) -> DateRange | None:
    """The days both in the data (first to last day) and in the requested range; None when none."""
    if first_day is None or last_day is None:
        return None
    start = max(first_day, date_from) if date_from else first_day
    end = min(last_day, date_to) if date_to else last_day
    return DateRange(start, end) if start <= end else None


@dataclass(frozen=True)
class Period:
    """A calendar period and how many of its days the data (within the requested range) covers."""

    kind: PeriodKind
    start: date
    end: date  # inclusive
    label: str
    days_in_period: int
    days_covered: int
    partial: bool = field(init=False)

    def __post_init__(self) -> None:
        if not 0 <= self.days_covered <= self.days_in_period:
            raise ValueError(f"{self.label}: {self.days_covered} days covered of {self.days_in_period}.")
        object.__setattr__(self, "partial", self.days_covered < self.days_in_period)


def period_of(day: date, kind: PeriodKind, *, covered: DateRange | None) -> Period:
    """The period holding `day`, with its coverage by the `covered` span (None: nothing covered)."""
    start = period_start(day, kind)
    end = period_end(start, kind)
    calendar_range = DateRange(start, end)
    return Period(
        kind=kind,
        start=start,
        end=end,
        label=period_label(start, kind),
        days_in_period=calendar_range.days,
        days_covered=calendar_range.days_in(covered),
    )


def coverage_spans(
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    coverage: Sequence[DateRange] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[DateRange, ...]:
    """The covered days as sorted spans: the data's `coverage` (the spans its imports cover), or its
    single span from `first_day` to `last_day`, each narrowed to the requested range."""
    if coverage is None:
        span = covered_span(first_day=first_day, last_day=last_day)
        coverage = (span,) if span else ()
    spans = []
    for span in sorted(coverage, key=lambda item: item.start):
        narrowed = covered_span(first_day=span.start, last_day=span.end, date_from=date_from, date_to=date_to)
        if narrowed:
            spans.append(narrowed)
    return tuple(spans)


def days_covered(days: DateRange, spans: Sequence[DateRange]) -> int:
    """How many of `days` lie in the (disjoint) spans."""
    return sum(days.days_in(span) for span in spans)


def period_axis(
    kind: PeriodKind,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    coverage: Sequence[DateRange] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[Period, ...]:
    """Every period from the first covered day's to the last covered day's that holds a covered day.

    Covered = in the data (its `coverage` spans, or first to last day) and in the requested range; an
    empty tuple when the data is empty or the range misses it. Within one span no period is skipped
    (a period without sales is a zero); a period between two spans (years between an old import and a
    new one, say) holds no covered day and is left out: its sales are unknown, not zero. Only a
    period at the edge of a span can be partial.
    """
    _check_kind(kind)
    spans = coverage_spans(
        first_day=first_day, last_day=last_day, coverage=coverage, date_from=date_from, date_to=date_to
    )
    periods: list[Period] = []
    for span in spans:
        start = period_start(span.start, kind)
        while start <= span.end:
            if not periods or periods[-1].start < start:
                calendar_range = DateRange(start, period_end(start, kind))
                periods.append(
                    Period(
                        kind=kind,
                        start=start,
                        end=calendar_range.end,
                        label=period_label(start, kind),
                        days_in_period=calendar_range.days,
                        days_covered=days_covered(calendar_range, spans),
                    )
                )
            start = next_period_start(start, kind)
    return tuple(periods)


@dataclass(frozen=True)
class PeriodValue(Generic[T]):
    period: Period
    value: T


def on_axis(axis: Sequence[Period], values: Mapping[date, T], *, missing: T) -> tuple[PeriodValue[T], ...]:
    """The values keyed by period start placed on the axis; a period without a value gets `missing`.

    Raises ValueError for a key that is not the start of a period on the axis (a total outside the
    covered span, or keyed by the wrong period kind), rather than dropping it.
    """
    starts = {period.start for period in axis}
    stray = sorted(key for key in values if key not in starts)
    if stray:
        raise ValueError(f"Totals for {', '.join(map(str, stray))} are not periods of the axis.")
    return tuple(PeriodValue(period, values.get(period.start, missing)) for period in axis)


@dataclass(frozen=True)
class MonthOfYearAverage:
    """A calendar month's average over the years in which it is completely covered."""

    month: int  # 1-12
    average: Decimal | None  # None when no year has this month complete
    years: tuple[int, ...]  # the years averaged
    left_out: tuple[int, ...]  # the years whose month is only partly covered


def month_of_year_averages(monthly: Sequence[PeriodValue[Decimal]]) -> tuple[MonthOfYearAverage, ...]:
    """Per calendar month 1-12, the average total over complete months only (see the module docstring).

    `monthly` is a month axis with its totals (`on_axis(period_axis("month", ...), totals, missing=0)`),
    so a complete month without sales is a zero and counts. Averages are rounded to cents.
    """
    complete: dict[int, list[tuple[int, Decimal]]] = {month: [] for month in range(1, 13)}
    partial: dict[int, list[int]] = {month: [] for month in range(1, 13)}
    for item in monthly:
        if item.period.kind != "month":
            raise ValueError(f"Month-of-year averages need months, not {item.period.kind}s ({item.period.label}).")
        if item.period.days_covered == 0:
            continue
        if item.period.partial:
            partial[item.period.start.month].append(item.period.start.year)
        else:
            complete[item.period.start.month].append((item.period.start.year, item.value))
    averages = []
    for month in range(1, 13):
        years = tuple(year for year, _ in complete[month])
        if len(set(years)) != len(years):
            raise ValueError(f"Month {month} appears twice in one year: {years}.")
        total = sum((value for _, value in complete[month]), Decimal(0))
        averages.append(
            MonthOfYearAverage(
                month=month,
                average=money(total / len(years)) if years else None,
                years=years,
                left_out=tuple(partial[month]),
            )
        )
    return tuple(averages)


def day_number(day: date) -> int:
    """Days since 2000-01-01 (the read model's day numbers)."""
    return (day - EPOCH).days


def day_from_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


def _index_of_day(day: date, kind: PeriodKind) -> int:
    if kind == "week":
        return (day_number(day) + _WEEK_EPOCH_OFFSET) // 7
    months = (day.year - EPOCH.year) * 12 + day.month - 1
    return {"month": months, "quarter": months // 3, "year": months // 12}[kind]


def period_index(days: npt.ArrayLike, kind: PeriodKind) -> IntArray:
    """Consecutive period numbers (int64) for day numbers: 0 is the period holding 2000-01-01.

    Weeks count from Monday 1999-12-27, months from 2000-01, quarters from 2000-Q1, years from 2000;
    earlier days get negative numbers. Vectorised through a lookup over the span of the days given.
    """
    _check_kind(kind)
    array = np.asarray(days)
    if not np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.int64)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if kind == "week":
        return ((array + _WEEK_EPOCH_OFFSET) // 7).astype(np.int64, copy=False)
    low, high = int(array.min()), int(array.max())
    span = np.arange(low, high + 1, dtype=np.int64).astype("timedelta64[D]") + np.datetime64(EPOCH, "D")
    months = span.astype("datetime64[M]").astype(np.int64) - (EPOCH.year - 1970) * 12
    if kind == "quarter":
        months //= 3
    elif kind == "year":
        months //= 12
    return np.take(months, array - low)


def period_index_of(day: date, kind: PeriodKind) -> int:
    """`period_index` for one date."""
    _check_kind(kind)
    return _index_of_day(day, kind)


def period_start_of_index(index: int, kind: PeriodKind) -> date:
    """The first day of the period numbered `index` by `period_index`."""
    _check_kind(kind)
    if kind == "week":
        return EPOCH + timedelta(days=7 * int(index) - _WEEK_EPOCH_OFFSET)
    months = int(index) * {"month": 1, "quarter": 3, "year": 12}[kind]
    return date(EPOCH.year + months // 12, months % 12 + 1, 1)
