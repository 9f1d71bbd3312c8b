"""The date rule of an import (pure: no database): a date cell is a date in the file's format, or
the row is refused.

A cell is read when the whole cell, surrounding spaces aside, is a date written in the mapping's
`date_format`, optionally followed by a time of day, and that date exists in the calendar:

    d/m/y   5/8/2022, 05/08/2022, 5/8/22, 5/8/2022 14:05, 5/8/2022 14:05:09, 5/8/2022 7:45:00.5
    m/d/y   8/5/2022 ...
    y-m-d   2022-08-05, 2022-8-5, 2022-08-05 14:05:09, 2022-08-05T14:05:09

The format names the order and the separator: `d/m/y` (alias `dmy`), `m/d/y` (`mdy`), `y-m-d`
(`ymd`), and the same orders with `.`, `-` or `/` between the parts (`d.m.y`, `d-m-y`, `m.d.y`,
`m-d-y`, `y/m/d`, `y.m.d`). Day and month have one or two digits; the year has four, or two in a
day- or month-first format (70-99 are 1970-1999, 00-69 are 2000-2069); a year-first date has four.
A time is hours 0-23 (one or two digits), two-digit minutes and optionally two-digit seconds with up
to six decimals, after one or more spaces (or a `T` after a year-first date); it is checked and then
dropped: lines keep the day. Dates before 1900 or after 2100 are refused as typos. Nothing else is
accepted: no other separator, no letters, no weekday or month name, no time zone, no AM/PM, no
spreadsheet serial number, no other kind of space.

`auto` decides one format per file from its distinct date cells: the format that reads the most of
them, ties going to the first of AUTO_FORMATS (so ISO, then day-first, then month-first). The cells
it does not read are refused like any other bad date. When day-first and month-first read exactly
the same cells (no day above 12 anywhere) and some cell means a different day in each, the file is
read day-first and the batch says so in a warning.

The rule is Python's, not PostgreSQL's date parser (which accepts `11/7/20x2`, `5/8/2022 25:00`
and other near-misses, and differs between server versions): both import paths read dates here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)
ALIASES = {"dmy": "d/m/y", "mdy": "m/d/y", "ymd": "y-m-d"}
# The formats `auto` chooses from, in order of preference when several read as many cells.
AUTO_FORMATS = ("y-m-d", "d/m/y", "d.m.y", "d-m-y", "m/d/y", "m.d.y", "m-d-y", "y/m/d", "y.m.d")
FORMATS = ("auto", *ALIASES, *AUTO_FORMATS)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ORDER_WORDS = {"d": "day", "m": "month", "y": "year"}
_EXAMPLE = {"d": "5", "m": "8", "y": "2022"}

# [0-9], never \d: Python's \d also matches other scripts' digits.
_TIME = re.compile(r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.[0-9]{1,6})?)?")
# A cell without its surrounding spaces: the date (no space or T in any format), then optionally
# spaces or a T and the time.
_CELL = re.compile(r"(?P<date>[^ T]+)(?:(?P<separator> +|T)(?P<time>.+))?")


@cache
def _date_pattern(date_format: str) -> re.Pattern[str]:
    order, separator = date_format[::2], date_format[1]
    parts = {
        "d": r"(?P<d>[0-9]{1,2})",
        "m": r"(?P<m>[0-9]{1,2})",
        "y": r"(?P<y>[0-9]{4})" if order[0] == "y" else r"(?P<y>[0-9]{4}|[0-9]{2})",
    }
    return re.compile(re.escape(separator).join(parts[part] for part in order))


def format_resolve(date_format: str) -> str:
    """The mapping's `date_format` as a pattern such as `d/m/y` (`auto` stays `auto`)."""
    return ALIASES.get(date_format, date_format)


def format_describe(date_format: str) -> str:
    """`d/m/y` -> 'day/month/year such as 5/8/2022'."""
    date_format = format_resolve(date_format)
    order, separator = date_format[::2], date_format[1]
    words = separator.join(_ORDER_WORDS[part] for part in order)
    example = separator.join(_EXAMPLE[part] for part in order)
    if date_format == "y-m-d":
        return "ISO year-month-day such as 2022-08-05"
    return f"{words} such as {example}"


@dataclass(frozen=True)
class DateCell:
    """One cell read: its date, or why it is not one (`reason`, a phrase after 'not a readable date')."""

    date: dt.date | None
    reason: str = ""


# A cell taken apart: (date text, "" | " " | "T", time) where time is "" (none), "ok" (a time of
# day) or the text of what follows the date when it is not one; None when the cell has no date part.
# Distinct cells are many (a time on every row); their shapes are as many as the distinct days.
Shape = tuple[str, str, str] | None
_NOT_A_TIME = "?"


def _shape(raw: str) -> Shape:
    match = _CELL.fullmatch(raw.strip(" "))
    if match is None:
        return None
    separator = {None: "", "T": "T"}.get(match["separator"], " ")
    return match["date"], separator, _time_shape(match["time"] or "")


def _time_shape(text: str) -> str:
    if not text:
        return ""
    match = _TIME.fullmatch(text)
    if match is None:
        return _NOT_A_TIME
    if int(match["hour"]) > 23 or int(match["minute"]) > 59 or int(match["second"] or 0) > 59:
        return text
    return "ok"


def _shape_read(shape: Shape, date_format: str) -> DateCell:
    expected = DateCell(None, f"expected {format_describe(date_format)}")
    if shape is None:
        return expected
    date_text, separator, time = shape
    if time == _NOT_A_TIME or (separator == "T" and date_format != "y-m-d"):
        return expected
    match = _date_pattern(date_format).fullmatch(date_text)
    if match is None:
        return expected
    if time not in ("", "ok"):
        return DateCell(None, f"{time} is not a time of day")
    return _calendar_date(match["y"], int(match["m"]), int(match["d"]))


def date_read(raw: str, date_format: str) -> DateCell:
    """Read one cell in one format (not `auto`)."""
    return _shape_read(_shape(raw), format_resolve(date_format))


@lru_cache(maxsize=4096)
def _calendar_date(year_text: str, month: int, day: int) -> DateCell:
    year = int(year_text)
    if len(year_text) == 2:
        year += 1900 if year >= 70 else 2000
    if not 1 <= month <= 12:
        return DateCell(None, f"there is no month {month}")
    if day == 0:
        return DateCell(None, "there is no day 0")
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return DateCell(None, f"there is no {day} {MONTHS[month - 1]} {year}")
    if not EARLIEST <= date <= LATEST:
        return DateCell(None, f"{date.isoformat()} is outside {EARLIEST.year}-{LATEST.year}")
    return DateCell(date)


@dataclass(frozen=True)
class DatesRead:
    """A file's distinct date cells read in one format."""

    date_format: str  # the format used (decided by `auto`, or the mapping's)
    cells: dict[str, DateCell]
    warnings: list[str] = field(default_factory=list)

    @property
    def all_read(self) -> bool:
        return all(cell.date is not None for cell in self.cells.values())

    def reason(self, raw: str) -> str:
        """The error report's reason for a cell that is not read."""
        return f"not a readable date ({self.cells[raw].reason})"


def dates_read(raws: Iterable[str | None], date_format: str) -> DatesRead:
    """Read a file's distinct date cells (empty cells are left out: they are the required-cell check's)."""
    shapes = {raw: _shape(raw) for raw in raws if raw is not None and raw.strip(" ")}
    counts = Counter(shapes.values())
    date_format = format_resolve(date_format)
    if date_format != "auto":
        read = {shape: _shape_read(shape, date_format) for shape in counts}
        return DatesRead(date_format, {raw: read[shape] for raw, shape in shapes.items()})
    readings = {candidate: {shape: _shape_read(shape, candidate) for shape in counts} for candidate in AUTO_FORMATS}
    read_counts = {
        candidate: sum(counts[shape] for shape, cell in read.items() if cell.date is not None)
        for candidate, read in readings.items()
    }
    best = max(AUTO_FORMATS, key=lambda candidate: read_counts[candidate])  # max keeps the first of equals
    if not read_counts[best]:
        options = ", ".join(format_describe(candidate) for candidate in ("d/m/y", "m/d/y", "y-m-d"))
        unread = DateCell(None, f"expected one format for the whole file: {options}")
        return DatesRead("auto", dict.fromkeys(shapes, unread))
    other_format = DateCell(None, f"this file's dates are {format_describe(best)}")
    chosen = {
        shape: other_format if cell.date is None and cell.reason.startswith("expected ") else cell
        for shape, cell in readings[best].items()
    }
    cells = {raw: chosen[shape] for raw, shape in shapes.items()}
    return DatesRead(best, cells, _ambiguity_warnings(best, readings, shapes))


def _ambiguity_warnings(best: str, readings: dict[str, dict[Shape, DateCell]], shapes: dict[str, Shape]) -> list[str]:
    """A warning when the month-first twin of the chosen day-first format reads the same cells and
    gives another day for some."""
    if best[0] != "d":
        return []
    twin = "m" + best[1] + "d" + best[3:]
    day_first, month_first = readings[best], readings[twin]
    if any((day_first[shape].date is None) != (month_first[shape].date is None) for shape in day_first):
        return []
    differing = sorted(raw for raw, shape in shapes.items() if day_first[shape].date != month_first[shape].date)
    if not differing:
        return []
    example = differing[0]
    date = day_first[shapes[example]].date
    assert date is not None
    return [
        f"Dates were read day-first ({best}): no date in the file has a day above 12, so "
        f"'{example.strip()}' could also be month-first. Read as {date.day} {MONTHS[date.month - 1]} "
        f"{date.year}; set the mapping's date_format to {twin} if the file is month-first."
    ]
