"""Getting a file's cells into the staging table: COPY first, a tolerant Python reader when COPY refuses.

COPY streams the file as it is (the fast path). It refuses a row with more or fewer cells than the
header, a stray quote or mixed line ends; the Python csv reader then reads the file again, stages
the readable rows and marks the others (their cell count in `cells`, their row number in `n`), so
the validation reports every such row instead of the first one only.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import IO, Any

import psycopg
from django.db import transaction

from analytics.services.import_csv.reading import FileFacts, ImportFailure, error_entry

CHUNK_BYTES = 1024 * 1024
LINE_IN_CONTEXT = re.compile(r"line (\d+)")
# Cells larger than this are not sales data.
MAX_CELL_CHARS = 1024 * 1024

Opener = Callable[[], IO[bytes]]
Progress = Callable[[int], None]


class _EncodingMismatch(Exception):
    pass


def staging_create(cursor: Any, *, table: str, cell_count: int) -> None:
    cells = ", ".join(f"c{i} text" for i in range(cell_count))
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    # Cells are never NULL (an empty cell is ''). n: the row number when the tolerant reader staged
    # the row; cells: its cell count when that differs from the header's.
    cursor.execute(f"CREATE TEMP TABLE {table} ({cells}, n integer, cells integer) ON COMMIT DROP")


def staging_load(
    cursor: Any, *, table: str, facts: FileFacts, opener: Opener, size: int, file_name: str, progress: Progress
) -> str:
    """Stage every row of the file; return the encoding used (UTF8 or LATIN1)."""
    encodings = [facts.pg_encoding]
    if facts.pg_encoding == "UTF8" and facts.py_encoding == "utf-8":
        encodings.append("LATIN1")  # the first bytes looked like UTF-8; the rest may not be
    last_error: Exception | None = None
    for encoding in encodings:
        try:
            with transaction.atomic():
                _copy(cursor, table=table, facts=facts, encoding=encoding, opener=opener, size=size, progress=progress)
            return encoding
        except _EncodingMismatch as error:
            last_error = error
            continue
        except psycopg.DataError as error:
            _binary_check(error, file_name=file_name)
            last_error = error
        try:
            with transaction.atomic():
                _read_tolerantly(
                    cursor, table=table, facts=facts, encoding=encoding, opener=opener, file_name=file_name
                )
            return encoding
        except UnicodeDecodeError as error:
            last_error = error
            continue
    raise ImportFailure(
        f"{file_name}: the file could not be read as UTF-8 or Latin-1 text ({last_error}).",
        errors=[error_entry(1, "", "", "unreadable text encoding")],
    )


def _copy(
    cursor: Any, *, table: str, facts: FileFacts, encoding: str, opener: Opener, size: int, progress: Progress
) -> None:
    columns = ", ".join(f"c{i}" for i in range(len(facts.header)))
    sql = (
        f"COPY {table} ({columns}) FROM STDIN WITH "
        f"(FORMAT csv, HEADER true, DELIMITER '{facts.delimiter}', ENCODING '{encoding}', FORCE_NOT_NULL ({columns}))"
    )
    done = 0
    try:
        with opener() as source, cursor.copy(sql) as copy:
            while chunk := source.read(CHUNK_BYTES):
                copy.write(chunk)
                done += len(chunk)
                progress(int(100 * done / max(size, 1)))
    except psycopg.DataError as error:
        if "invalid byte sequence" in str(error) and "0x00" not in str(error):
            raise _EncodingMismatch(str(error)) from error
        raise


def _binary_check(error: psycopg.Error, *, file_name: str) -> None:
    text = str(error)
    if "0x00" in text:
        context = getattr(error.diag, "context", None) or ""
        match = LINE_IN_CONTEXT.search(context)
        row = int(match.group(1)) if match else 1
        raise ImportFailure(
            f"{file_name}: row {row}: not a text file (it contains binary data); a CSV file is text: "
            "export the data as CSV.",
            errors=[error_entry(row, "", "", "binary data, not CSV text")],
        )


def _read_tolerantly(
    cursor: Any, *, table: str, facts: FileFacts, encoding: str, opener: Opener, file_name: str
) -> None:
    cell_count = len(facts.header)
    columns = ", ".join(f"c{i}" for i in range(cell_count))
    py_encoding = facts.py_encoding if encoding == facts.pg_encoding else "latin-1"
    csv.field_size_limit(MAX_CELL_CHARS)
    with opener() as source:
        text = io.TextIOWrapper(source, encoding=py_encoding, newline="")
        reader = csv.reader(text, delimiter=facts.delimiter)
        row_no = 1
        try:
            next(reader, None)  # the header
            with cursor.copy(f"COPY {table} ({columns}, n, cells) FROM STDIN") as copy:
                for row_no, row in enumerate(reader, start=2):
                    if not row:
                        continue  # a blank line
                    if len(row) == cell_count:
                        copy.write_row([*row, row_no, None])
                    else:
                        padded = (row + [""] * cell_count)[:cell_count]
                        copy.write_row([*padded, row_no, len(row)])
        except csv.Error as error:
            raise ImportFailure(
                f"{file_name}: row {row_no + 1}: the CSV cannot be read ({error}).",
                errors=[error_entry(row_no + 1, "", "", f"unreadable CSV: {error}")],
            ) from error
        finally:
            text.detach()
