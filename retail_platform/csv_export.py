"""CSV downloads that are safe to open in a spreadsheet, streamed row by row."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

# A cell starting with one of these is read as a formula (or hides one) by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


# Written as they are: the csv module turns them into digits, dates or an empty cell.
_PLAIN_TYPES = (int, float, Decimal, datetime.date, datetime.time, type(None))


def spreadsheet_safe(value: Any) -> Any:
    """Prefix text cells that a spreadsheet would run as a formula with a quote; leave numbers alone.

    Anything that is not a number or a date is written as its text, so it is checked as text too
    (a model whose name is "=cmd" is as dangerous as the string).
    """
    if isinstance(value, _PLAIN_TYPES):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([spreadsheet_safe(name) for name in header])
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])


def csv_streaming_response(
    filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or "attachment"
    return response
