"""The columnar import path: a clean file read by Arrow and loaded with one binary COPY.

The SQL path (`pipeline.py`) makes PostgreSQL do everything: COPY the cells as text, check them,
then cast, join and hash every line in one INSERT ... SELECT, on one core. This path splits the work
between the two cores of the machine: the importing process reads and checks the file with Arrow
and computes the lines with numpy (`columnar_lines.py`) while PostgreSQL stores dimensions and
customers, then streams the finished lines in PostgreSQL's binary format (`binary_copy.py`) while
PostgreSQL writes them. The day-level rollup of the new lines is computed here too, so the
aggregates stage adds them to the rollup instead of reading every line again.

It only takes files it reads with certainty (see `columnar_lines`). Anything else raises
`ColumnarDeclined` before a row is written, and the caller, which runs this inside a savepoint,
imports the file through the SQL path, which checks every row and reports the problems. Both paths
store the same lines for the same file (tests compare them), with the same row keys, so duplicates
are recognised whichever path imported the earlier file.

Stages, as the import reports them:
read      Arrow reads the file in blocks; every cell is checked, distinct values collected, row keys
          hashed (MD5 of the raw cells, as the SQL path)
validate  dates, names and ages are checked through the same SQL as the SQL path
load      dimensions and customers added (a second thread, while this one numbers repeated lines),
          lines already present left out, the lines streamed by binary COPY, the primary key rebuilt
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg.copy import QueuedLibpqWriter

from analytics.services.import_csv import binary_copy
from analytics.services.import_csv.columnar_lines import (
    PG_EPOCH_DAYS,
    BatchFacts,
    ColumnarDeclined,
    LineArrays,
    Lookups,
    batch_check,
    lines_compute,
    lines_take,
    repeated_keys_number,
)
from analytics.services.import_csv.dimensions import (
    customers_load,
    dates_lookup,
    dimensions_load,
    distinct_values_bad,
)
from analytics.services.import_csv.lines_table import lines_load
from analytics.services.import_csv.progress import ProgressWriter
from analytics.services.import_csv.reading import FileFacts
from analytics.services.import_csv.statements import ImportStatements
from analytics.services.rollups import DAILY_INCREMENT_COLUMNS, SalesDailyIncrement

logger = logging.getLogger(__name__)

BLOCK_BYTES = 16 * 1024 * 1024
# Record batches kept in memory between the two passes up to this size; a bigger file is read twice.
KEEP_BYTES = 512 * 1024 * 1024
DAILY_KEYS = ("date", "store_id", "category_id", "payment_method_id")
DAILY_SUMS = DAILY_INCREMENT_COLUMNS[4:]


@dataclass(frozen=True)
class ColumnarResult:
    rows_read: int
    imported: int
    daily: SalesDailyIncrement
    timings: dict[str, float]


def columnar_import(
    *,
    cursor: Any,
    statements: ImportStatements,
    facts: FileFacts,
    opener: Callable[[], IO[bytes]],
    size: int,
    batch_id: int,
    progress: ProgressWriter,
) -> ColumnarResult:
    """Import a clean file; raise ColumnarDeclined (nothing written yet) for any other file.

    Runs inside the import's transaction, on a savepoint of the caller's that the caller rolls back
    when this raises. Dates, dimensions and customers go through the SQL path's own steps."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress.update("read", 0)
    reading = _FileReading(statements=statements, facts=facts, opener=opener, size=size, progress=progress)
    checked = reading.first_pass()
    timings["read"] = time.perf_counter() - started

    started = time.perf_counter()
    progress.update("validate", 0)
    values = checked.distinct_values()
    if distinct_values_bad(statements, values):
        raise ColumnarDeclined("a store, category, payment method, gender or age the checks reject")
    if dates_lookup(cursor, values.get("date", [])):
        raise ColumnarDeclined("an unreadable date")
    cursor.execute("SELECT raw, d - DATE '2000-01-01' FROM imp_dates")
    dates = dict(cursor.fetchall())
    timings["validate"] = time.perf_counter() - started

    # From here on rows are written. PostgreSQL adds the dimensions and customers on a second thread
    # (the same connection, which this thread leaves alone meanwhile) while this one numbers repeats.
    started = time.perf_counter()
    progress.update("load", 0)
    raw_connection = cursor.connection
    side = _Side(lambda: _dimensions_and_customers(raw_connection, statements, values, checked))
    keys = repeated_keys_number(np.concatenate(checked.keys) if checked.keys else np.empty(0, dtype="V16"))
    lookups_without_dates = side.result()
    lookups = Lookups(dates=dates, **lookups_without_dates)
    progress.update("load", 20)

    new_rows = _new_rows(cursor, keys)
    progress.update("load", 30)
    daily_parts: list[pa.Table] = []

    def copy_lines() -> int:
        written = 0
        columns = ", ".join(binary_copy.COLUMNS)
        sql = f"COPY analytics_transactionline ({columns}) FROM STDIN (FORMAT BINARY)"
        raw_cursor = getattr(cursor, "cursor", cursor)
        with raw_cursor.copy(sql, writer=QueuedLibpqWriter(raw_cursor)) as copy:
            copy.write(binary_copy.SIGNATURE)
            for start, batch, amounts in reading.second_pass():
                lines = lines_compute(
                    batch, spec=statements.spec, positions=statements.positions, lookups=lookups, amounts=amounts
                )
                rows = np.flatnonzero(new_rows[start : start + len(lines)])
                if len(rows) < len(lines):
                    lines = lines_take(lines, rows)
                batch_keys = keys[start : start + batch.num_rows][rows]
                for chunk in binary_copy.lines_binary(lines, keys=batch_keys, batch_id=batch_id):
                    copy.write(chunk)
                written += len(lines)
                daily_parts.append(_daily_part(lines))
                progress.update("load", 30 + int(60 * (start + batch.num_rows) / max(checked.rows, 1)))
            copy.write(binary_copy.TRAILER)
        return written

    new_count = int(new_rows.sum())
    imported = lines_load(cursor, rows=new_count, insert=lambda bulk: copy_lines()) if new_count else 0
    progress.update("load", 95)
    daily = _daily_increment(daily_parts)
    timings["load"] = time.perf_counter() - started
    return ColumnarResult(rows_read=checked.rows, imported=imported, daily=daily, timings=timings)


@dataclass
class _Checked:
    """What the first pass collected from every batch."""

    rows: int = 0
    distinct: dict[str, set[str]] = field(default_factory=dict)
    customer_parts: list[pa.Table] = field(default_factory=list)
    keys: list[npt.NDArray[np.void]] = field(default_factory=list)

    def add(self, facts: BatchFacts) -> None:
        self.rows += facts.rows
        for name, cells in facts.distinct.items():
            self.distinct.setdefault(name, set()).update(cells)
        self.customer_parts.append(facts.customers)
        self.keys.append(facts.keys)

    def distinct_values(self) -> dict[str, list[str | None]]:
        return {name: sorted(cells) for name, cells in self.distinct.items()}

    def customers(self) -> pa.Table:
        return pa.concat_tables(self.customer_parts).group_by(["raw", "gender", "age"]).aggregate([])


class _FileReading:
    """The file as Arrow record batches of raw cells (header row removed), read once when it is
    small enough to keep and twice otherwise."""

    def __init__(
        self,
        *,
        statements: ImportStatements,
        facts: FileFacts,
        opener: Callable[[], IO[bytes]],
        size: int,
        progress: ProgressWriter,
    ) -> None:
        self.statements = statements
        self.facts = facts
        self.opener = opener
        self.size = size
        self.progress = progress
        self.kept: list[tuple[int, pa.RecordBatch, Any]] | None = []

    def _batches(self) -> Iterator[pa.RecordBatch]:
        count = len(self.facts.header)
        names = [f"f{i}" for i in range(count)]
        try:
            with self.opener() as source:
                reader = pacsv.open_csv(
                    source,
                    read_options=pacsv.ReadOptions(
                        autogenerate_column_names=True,
                        block_size=BLOCK_BYTES,
                        encoding="latin1" if self.facts.pg_encoding == "LATIN1" else "utf8",
                    ),
                    parse_options=pacsv.ParseOptions(
                        delimiter=self.facts.delimiter,
                        quote_char='"',
                        double_quote=True,
                        escape_char=False,
                        newlines_in_values=True,
                        ignore_empty_lines=True,
                    ),
                    convert_options=pacsv.ConvertOptions(
                        column_types=dict.fromkeys(names, pa.string()),
                        include_columns=names,
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
                first = True
                for batch in reader:
                    if first:
                        header = [cell.replace("\ufeff", "") for cell in batch.slice(0, 1).to_pylist()[0].values()]
                        expected = [cell.replace("\ufeff", "") for cell in self.facts.header]
                        if batch.num_columns != count or header != expected:
                            raise ColumnarDeclined("Arrow reads the header differently")
                        batch = batch.slice(1)
                        first = False
                    if batch.num_rows:
                        yield batch
        except (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeDecodeError) as error:
            raise ColumnarDeclined(f"Arrow cannot read the file ({error})") from error

    def first_pass(self) -> _Checked:
        checked = _Checked()
        read_bytes = 0
        for batch in self._batches():
            facts = batch_check(batch, spec=self.statements.spec, positions=self.statements.positions)
            if self.kept is not None:
                if read_bytes + batch.nbytes > KEEP_BYTES:
                    self.kept = None  # the second pass reads the file again
                else:
                    self.kept.append((checked.rows, batch, facts.amounts))
            checked.add(facts)
            read_bytes += batch.nbytes
            self.progress.update("read", min(99, int(100 * read_bytes / max(self.size * 1.5, 1))))
        if checked.rows == 0:
            raise ColumnarDeclined("no data rows")
        return checked

    def second_pass(self) -> Iterator[tuple[int, pa.RecordBatch, Any]]:
        if self.kept is not None:
            while self.kept:
                yield self.kept.pop(0)  # let each batch go once its lines are written
            return
        start = 0
        for batch in self._batches():
            yield start, batch, None
            start += batch.num_rows


class _Side:
    """A function run on a second thread; `result()` waits for it and re-raises its error."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self._result: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._result = function()
            except BaseException as error:
                self._error = error

        self._thread = threading.Thread(target=run, name="import-side", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _dimensions_and_customers(
    raw_connection: Any, statements: ImportStatements, values: dict[str, list[str | None]], checked: _Checked
) -> dict[str, Any]:
    with raw_connection.cursor() as cursor:
        dimensions_load(cursor, statements, values)
        dimensions = {}
        for field, table in (("store", "imp_store"), ("category", "imp_category"), ("payment_method", "imp_payment")):
            cursor.execute(f"SELECT raw, id FROM {table}")
            dimensions[field] = dict(cursor.fetchall())
        cursor.execute("CREATE TEMP TABLE imp_customers (raw text, gender text, age text) ON COMMIT DROP")
        triples = io.BytesIO()
        pacsv.write_csv(checked.customers(), triples, write_options=pacsv.WriteOptions(include_header=False))
        with cursor.copy("COPY imp_customers (raw, gender, age) FROM STDIN (FORMAT csv)") as copy:
            copy.write(triples.getbuffer())
        customers_load(cursor)
        buffer = io.BytesIO()
        with cursor.copy("COPY imp_customer_ids (raw, id) TO STDOUT (FORMAT csv)") as copy:
            for data in copy:
                buffer.write(data)
    ids = pacsv.read_csv(
        io.BytesIO(buffer.getvalue()),
        read_options=pacsv.ReadOptions(column_names=["raw", "id"]),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={"raw": pa.string(), "id": pa.int64()}, strings_can_be_null=False
        ),
    )
    return {
        "dimensions": dimensions,
        "customer_cells": ids.column("raw").combine_chunks(),
        "customer_ids": ids.column("id").to_numpy(),
    }


def _new_rows(cursor: Any, keys: npt.NDArray[np.void]) -> npt.NDArray[np.bool_]:
    """Which rows' keys are not in the table yet (lines already imported are duplicates). A key is
    looked up in the primary key's index (a few keys against many lines) or by a hash join, as the
    planner sees fit: nested loops are allowed for this one query."""
    new = np.ones(len(keys), dtype=np.bool_)
    cursor.execute("SELECT EXISTS (SELECT 1 FROM analytics_transactionline)")
    if not cursor.fetchone()[0] or not len(keys):
        return new
    cursor.execute("CREATE TEMP TABLE imp_keys (k uuid) ON COMMIT DROP")
    raw_cursor = getattr(cursor, "cursor", cursor)
    with raw_cursor.copy("COPY imp_keys (k) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(binary_copy.SIGNATURE)
        rows = np.empty(len(keys), dtype=[("count", ">i2"), ("length", ">i4"), ("key", "V16")])
        rows["count"], rows["length"], rows["key"] = 1, 16, keys
        copy.write(rows.tobytes())
        copy.write(binary_copy.TRAILER)
    cursor.execute("ANALYZE imp_keys")
    cursor.execute("SET LOCAL enable_nestloop = on")
    present = io.BytesIO()
    with raw_cursor.copy(
        "COPY (SELECT k FROM imp_keys WHERE EXISTS (SELECT 1 FROM analytics_transactionline t WHERE t.row_key = k)) "
        "TO STDOUT (FORMAT BINARY)"
    ) as copy:
        for data in copy:
            present.write(data)
    cursor.execute("SET LOCAL enable_nestloop = off")
    body = present.getvalue()[len(binary_copy.SIGNATURE) : -len(binary_copy.TRAILER)]
    found = np.frombuffer(body, dtype=[("count", ">i2"), ("length", ">i4"), ("key", "V16")])["key"]
    if len(found):
        new = ~np.isin(keys, found)
    return new


def _daily_part(lines: LineArrays) -> pa.Table:
    table = pa.table(
        {
            "date": lines.date,
            "store_id": lines.store_id,
            "category_id": lines.category_id,
            "payment_method_id": lines.payment_method_id,
            "gross_cents": lines.gross,
            "discount_cents": lines.discount,
            "net_cents": lines.net,
            "cost_cents": np.where(lines.has_cost, lines.cost, 0),
            "cost_lines": lines.has_cost.astype(np.int64),
            "units": lines.quantity,
            "purchase_lines": (~lines.is_return).astype(np.int64),
            "return_lines": lines.is_return.astype(np.int64),
        }
    )
    return _daily_group(table)


def _daily_group(table: pa.Table) -> pa.Table:
    grouped = table.group_by(list(DAILY_KEYS)).aggregate([(name, "sum") for name in DAILY_SUMS])
    return grouped.rename_columns([name.removesuffix("_sum") for name in grouped.column_names])


def _daily_increment(parts: list[pa.Table]) -> SalesDailyIncrement:
    if not parts:
        return SalesDailyIncrement(csv=b"", rows=0)
    table = _daily_group(pa.concat_tables(parts)) if len(parts) > 1 else parts[0]
    days = table.column("date").to_numpy().astype(np.int32) + PG_EPOCH_DAYS
    table = table.set_column(0, "date", pa.array(days, pa.date32()))
    table = table.select(list(DAILY_INCREMENT_COLUMNS))
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, write_options=pacsv.WriteOptions(include_header=False))
    return SalesDailyIncrement(csv=buffer.getvalue(), rows=table.num_rows)
