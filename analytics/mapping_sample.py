"""A sample of a file for the column-mapping editor: its header, its first rows as cells, and its
first PREVIEW_ROWS rows as the bytes they are in the file (what the dry run imports).

The file is looked at as the import looks at it (analytics.services.import_csv.reading: encoding,
delimiter, text or not), from its first SAMPLE_BYTES.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from analytics.mappings import ColumnMappingSpec
from analytics.services.import_csv.reading import SAMPLE_BYTES, ImportFailure, file_facts_read

# How many rows the page shows and the dry run reads, and how many feed the proposals.
PREVIEW_ROWS = 20
DETECTION_ROWS = 1000


class SampleError(ValueError):
    """The file cannot be read as a CSV table; the message says why."""


@dataclass(frozen=True)
class FileSample:
    file_name: str
    header: list[str]
    # The first rows as cells (up to DETECTION_ROWS), and the file's text up to the end of its
    # PREVIEW_ROWS-th row (what the dry run imports).
    rows: list[list[str]]
    preview_bytes: bytes
    delimiter: str
    encoding: str

    @property
    def shown_rows(self) -> list[list[str]]:
        return self.rows[:PREVIEW_ROWS]

    def column(self, position: int) -> list[str]:
        return [row[position].strip() for row in self.rows if position < len(row) and row[position].strip()]


def sample_read(data: bytes, *, file_name: str) -> FileSample:
    """The header and first rows of a file (the first SAMPLE_BYTES are enough). Raises SampleError for
    an empty or binary file, as the import would refuse it."""
    data = data[:SAMPLE_BYTES]
    try:
        facts = file_facts_read(data, file_name=file_name, spec=ColumnMappingSpec(columns={}))
    except ImportFailure as failure:
        raise SampleError(failure.message) from failure
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    text = body.decode(facts.py_encoding.replace("-sig", ""), errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=facts.delimiter)
    header = [cell.replace("\ufeff", "").strip() for cell in next(reader, [])]
    rows: list[list[str]] = []
    for row in reader:
        if len(rows) >= DETECTION_ROWS:
            break
        if any(cell.strip() for cell in row):
            rows.append(row)
    if len(data) == SAMPLE_BYTES and rows:
        rows = rows[:-1]  # the sample may end inside the last row
    return FileSample(
        file_name=file_name,
        header=header,
        rows=rows,
        preview_bytes=_first_rows(data, PREVIEW_ROWS),
        delimiter=facts.delimiter,
        encoding=facts.py_encoding,
    )


def _first_rows(data: bytes, rows: int) -> bytes:
    """The file's bytes up to the end of its `rows`-th data row: line ends inside quotes do not count."""
    quoted = False
    lines = 0
    for index, byte in enumerate(data):
        if byte == 0x22:  # "
            quoted = not quoted
        elif byte == 0x0A and not quoted:
            lines += 1
            if lines == rows + 1:
                return data[: index + 1]
    return data
