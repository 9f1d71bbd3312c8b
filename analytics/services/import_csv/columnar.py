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
read      Arrow reads the file in blocks while two threads check every cell and collect the
          distinct values (big files also have their row keys hashed here)
validate  names and ages are checked as the SQL path checks them, and the distinct date cells read
          by the date rule both paths share (`dates.py`)
load      on a second thread, customers and dimensions are added, while this thread hashes the row
          keys (MD5 of the raw cells, as the SQL path); lines already present are left out, the
          lines streamed by binary COPY, the primary key rebuilt while the day rollup rows are summed
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pandas  # noqa: F401 (Arrow imports it when it first turns a Python value into a scalar: load it here)
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg.copy import QueuedLibpqWriter

from analytics.services.import_csv import binary_copy
from analytics.services.import_csv.columnar_lines import (
    BatchFacts,
    ColumnarDeclined,
    Lookups,
    batch_check,
    customer_values,
    distinct_rows,
    lines_compute,
    lines_take,
    repeated_keys_number,
    row_keys,
    sorted_unique,
)
from analytics.services.import_csv.dates import DatesRead, dates_read
from analytics.services.import_csv.dimensions import (
    DistinctValues,
    customer_values_build,
    customers_add,
    defaults_warnings,
    dimensions_load,
    distinct_values_bad,
)
from analytics.services.import_csv.lines_table import BULK_LOCK_WAIT, BULK_MIN_ROWS, lines_load
from analytics.services.import_csv.progress import ProgressWriter
from analytics.services.import_csv.reading import FileFacts
from analytics.services.import_csv.statements import ImportStatements
from retail_platform.binary_copy import SIGNATURE, TRAILER

logger = logging.getLogger(__name__)

# Blocks of about 50,000 lines, parsed one at a time on this thread while two others check the
# blocks before (Arrow's own threads would parse several blocks before handing out the first).
BLOCK_BYTES = 4 * 1024 * 1024
CHECK_THREADS = 2
SWITCH_INTERVAL = 0.0005  # seconds (Python's default: 0.005)
# Files up to this size are kept in memory between the two passes (the import process peaks near 7
# times the file's size then: about 700 MB for 1,000,000 lines, 82 MB); a bigger file is read twice,
# in about 300 MB whatever its size.
KEEP_FILE_BYTES = 100 * 1024 * 1024
# Lines carry their date as days since this one (binary_copy.py).
DAY_ZERO = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class ColumnarResult:
    rows_read: int
    imported: int
    timings: dict[str, float]
    warnings: list[str]


@contextmanager
def _switch_interval(seconds: float) -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


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
    when this raises. Dates, dimensions and customers go through the SQL path's own steps (`dates`,
    `dimensions`)."""
    # The threads hand the interpreter lock over sooner: each holds it only between calls into Arrow,
    # numpy or the database, and a thread waiting for it would otherwise wait up to 5 ms each time.
    with _switch_interval(SWITCH_INTERVAL):
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
        dates = dates_read(values.get("date", []), statements.spec.date_format)
        if not dates.all_read:
            raise ColumnarDeclined("an unreadable date")
        timings["validate"] = time.perf_counter() - started

        # The second thread adds the customers, stores, categories and payment methods (the same
        # connection, which this thread leaves alone meanwhile), while this one hashes the rows.
        started = time.perf_counter()
        progress.update("load", 0)
        side = _Side(lambda: _lookups_make(cursor, statements, values, dates, checked, reading))
        try:
            keys = repeated_keys_number(reading.row_keys(checked))
        except BaseException:
            side.wait()  # the connection is the second thread's until it is done
            raise
        lookups = side.result()
        progress.update("load", 20)

        cursor.execute("SELECT EXISTS (SELECT 1 FROM analytics_transactionline)")
        earlier_lines = bool(cursor.fetchone()[0])
        new_rows = _new_rows(cursor, keys, batch_id=batch_id) if earlier_lines else np.ones(len(keys), dtype=np.bool_)
        progress.update("load", 30)

        def copy_lines() -> int:
            written = 0
            columns = ", ".join(binary_copy.COLUMNS)
            sql = f"COPY analytics_transactionline ({columns}) FROM STDIN (FORMAT BINARY)"
            raw_cursor = getattr(cursor, "cursor", cursor)
            with raw_cursor.copy(sql, writer=QueuedLibpqWriter(raw_cursor)) as copy:
                copy.write(SIGNATURE)
                for start, batch, facts, customer_codes in reading.second_pass():
                    lines = lines_compute(
                        batch,
                        spec=statements.spec,
                        positions=statements.positions,
                        lookups=lookups,
                        facts=facts,
                        customer_codes=customer_codes,
                    )
                    rows = np.flatnonzero(new_rows[start : start + len(lines)])
                    if len(rows) < len(lines):
                        lines = lines_take(lines, rows)
                    batch_keys = keys[start : start + batch.num_rows][rows]
                    for chunk in binary_copy.lines_binary(lines, keys=batch_keys, batch_id=batch_id):
                        copy.write(chunk)
                    written += len(lines)
                    progress.update("load", 30 + int(60 * (start + batch.num_rows) / max(checked.rows, 1)))
                copy.write(TRAILER)
            return written

        new_count = int(new_rows.sum())
        imported = lines_load(cursor, rows=new_count, insert=lambda bulk: copy_lines()) if new_count else 0
        progress.update("load", 95)
        timings["load"] = time.perf_counter() - started
        return ColumnarResult(
            rows_read=checked.rows,
            imported=imported,
            timings=timings,
            warnings=[*dates.warnings, *defaults_warnings(statements, values, rows=checked.rows)],
        )


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
        if facts.customers is not None:
            self.customer_parts.append(facts.customers)

    def distinct_values(self) -> DistinctValues:
        return {name: sorted(cells) for name, cells in self.distinct.items()}

    def customers(self) -> pa.Table:
        parts = pa.concat_tables(self.customer_parts)
        return distinct_rows({name: parts.column(name) for name in ("raw", "gender", "age")})


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
        self.customer_codes: list[npt.NDArray[np.int64]] = []

    def _batches(self) -> Iterator[pa.RecordBatch]:
        """The file's record batches, as Arrow's streaming reader parses them."""
        count = len(self.facts.header)
        names = [f"f{i}" for i in range(count)]
        read_options = pacsv.ReadOptions(
            use_threads=False,
            autogenerate_column_names=True,
            block_size=BLOCK_BYTES,
            encoding="latin1" if self.facts.pg_encoding == "LATIN1" else "utf8",
        )
        parse_options = pacsv.ParseOptions(
            delimiter=self.facts.delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=True,
        )
        convert_options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            include_columns=names,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        options = {"read_options": read_options, "parse_options": parse_options, "convert_options": convert_options}
        try:
            with self.opener() as source:
                first = True
                for batch in pacsv.open_csv(source, **options):
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
        """Check every batch (on two threads: Arrow and numpy release the interpreter lock) and
        collect what the database must resolve. A file small enough is kept for the second pass;
        its row keys are hashed later (`row_keys`), while PostgreSQL adds the customers. A bigger
        one is hashed now and read again for the lines."""
        checked = _Checked()
        positions = self.statements.positions
        keep = self.size <= KEEP_FILE_BYTES

        def check(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, BatchFacts, npt.NDArray[np.void] | None]:
            # A kept file's customers are gathered from all its batches at once (`customers`).
            facts = batch_check(batch, spec=self.statements.spec, positions=positions, customers=not keep)
            return batch, facts, None if keep else row_keys(batch, positions=positions)

        if not keep:
            self.kept = None
        with ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="import-check") as pool:
            for batch, facts, keys in _ordered_map(pool, check, self._batches(), ahead=2 * CHECK_THREADS):
                if self.kept is not None:
                    self.kept.append((checked.rows, batch, facts))
                else:
                    checked.keys.append(keys)
                checked.add(facts)
                self.progress.update("read", min(99, int(100 * checked.rows / max(self.size / 80, 1))))
        if checked.rows == 0:
            raise ColumnarDeclined("no data rows")
        return checked

    def row_keys(self, checked: _Checked) -> npt.NDArray[np.void]:
        """Every row's key, in file order."""
        if self.kept is not None:
            checked.keys.extend(row_keys(batch, positions=self.statements.positions) for _, batch, _ in self.kept)
        return np.concatenate(checked.keys) if checked.keys else np.empty(0, dtype="V16")

    def customers(self, checked: _Checked) -> tuple[pa.Array, pa.Table]:
        """The file's distinct raw customer cells, and its distinct customer, gender and age cells;
        for each kept batch, its rows' positions among the customer cells (for the lines)."""
        if self.kept is None:
            triples = checked.customers()
            return pc.unique(triples.column("raw").combine_chunks()), triples
        # One code per row and column, from one dictionary per column (the customer column encoded
        # across the batches, the batches' small gender and age dictionaries unified), the codes
        # combined into one integer per row.
        column = self.statements.positions["customer"]
        customers = pa.chunked_array([batch.column(column) for _, batch, _ in self.kept]).dictionary_encode()
        encodings = {
            "customer": (
                customers.chunks[0].dictionary,
                [chunk.indices.to_numpy(zero_copy_only=False).astype(np.int64) for chunk in customers.chunks],
            )
        }
        for name in ("gender", "age"):
            if name not in self.kept[0][2].encoded:
                continue
            batches = [facts.encoded[name] for _, _, facts in self.kept]
            unified = pa.chunked_array([column.dictionary for column in batches], type=pa.string()).dictionary_encode()
            codes = [
                chunk.indices.to_numpy(zero_copy_only=False).astype(np.int64)[
                    column.indices.to_numpy(zero_copy_only=False)
                ]
                for chunk, column in zip(unified.chunks, batches, strict=True)
            ]
            encodings[name] = (unified.chunks[0].dictionary, codes)
        cells, self.customer_codes = encodings["customer"]
        if len(cells) * np.prod([float(len(encodings[name][0])) for name in encodings if name != "customer"]) >= 2**62:
            raise ColumnarDeclined("too many distinct customer, gender and age cells")
        combined = np.concatenate(self.customer_codes)
        radices = []
        for name in ("gender", "age"):
            if name in encodings:
                dictionary, codes = encodings[name]
                combined = combined * len(dictionary) + np.concatenate(codes)
                radices.append((name, dictionary))
        remaining = sorted_unique(combined)
        columns = {}
        for name, dictionary in reversed(radices):
            remaining, digit = np.divmod(remaining, len(dictionary))
            columns[name] = dictionary.take(pa.array(digit))
        nothing = pa.nulls(len(remaining), pa.string())
        triples = pa.table(
            {
                "raw": cells.take(pa.array(remaining)),
                "gender": columns.get("gender", nothing),
                "age": columns.get("age", nothing),
            }
        )
        return cells, triples

    def second_pass(self) -> Iterator[tuple[int, pa.RecordBatch, Any, npt.NDArray[np.int64] | None]]:
        if self.kept is not None:
            while self.kept:
                # Let each batch go once its lines are written.
                start, batch, facts = self.kept.pop(0)
                yield start, batch, facts, self.customer_codes.pop(0)
            return
        start = 0
        for batch in self._batches():
            yield start, batch, None, None
            start += batch.num_rows


def _ordered_map(
    pool: ThreadPoolExecutor, function: Callable[[Any], Any], items: Iterator[Any], *, ahead: int
) -> Iterator[Any]:
    """`function` over `items` on the pool, results in order, with at most `ahead` items in flight
    (Executor.map would read every item, the whole file, at once)."""
    pending: deque[Future[Any]] = deque()
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


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

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _lookups_make(
    cursor: Any,
    statements: ImportStatements,
    values: DistinctValues,
    dates: DatesRead,
    checked: _Checked,
    reading: _FileReading,
) -> Lookups:
    """On the second thread: add the customers and dimensions, and return the lookups the lines need."""
    days = {raw: (cell.date - DAY_ZERO).days for raw, cell in dates.cells.items() if cell.date is not None}
    with cursor.connection.cursor() as side_cursor:
        customer_cells, triples = reading.customers(checked)
        customers = _CustomersLoad.prepare(side_cursor, triples)
        customer_ids = customers.write(side_cursor)
        dimensions = dimensions_load(side_cursor, statements, values, lookup_tables=False)
    return Lookups(
        dates=days, dimensions=dimensions, customer_cells=customer_cells, customer_ids=customer_ids(customer_cells)
    )


@dataclass
class _CustomersLoad:
    """The file's customers, added in two steps: `prepare` decides how and builds the data,
    `write` sends it."""

    triples: pa.Table  # the distinct raw customer, gender and age cells
    values: pa.Table | None  # external_id, gender, age: one row per customer, when computed here
    ids: npt.NDArray[np.int64] | None  # a block of new ids, when the customer table is empty

    @classmethod
    def prepare(cls, cursor: Any, triples: pa.Table) -> _CustomersLoad:
        values = customer_values(triples)
        # Nobody else adds customers until the import commits (readers are not held up).
        cursor.execute("LOCK TABLE analytics_customer IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM analytics_customer)")
        if values is None or cursor.fetchone()[0]:
            return cls(triples=triples, values=values, ids=None)
        # The first customers: one block of the sequence (the table is locked against other inserts,
        # which would draw from it), given in the order of the external ids as the SQL path's insert
        # does (both indexes then grow at their end).
        values = values.take(pc.sort_indices(values, [("external_id", "ascending")]))
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('analytics_customer', 'id'), "
            "nextval(pg_get_serial_sequence('analytics_customer', 'id')) + %s - 1)",
            [len(values)],
        )
        (last,) = cursor.fetchone()
        return cls(triples=triples, values=values, ids=np.arange(last - len(values) + 1, last + 1, dtype=np.int64))

    def write(self, cursor: Any) -> Callable[[pa.Array], npt.NDArray[np.int64]]:
        """Add the customers; return the function giving the customer ids of raw customer cells (a
        cell is its customer's id with spaces around, as btrim sees it)."""
        if self.ids is not None and self.values is not None:
            external_ids, ids = self.values.column("external_id"), self.ids
            table = self.values.add_column(0, "id", pa.array(ids))
            _copy_csv_bulk(cursor, "analytics_customer", ["id", "external_id", "gender", "age"], table)
        else:
            external_ids, ids = self._add_and_read(cursor)

        def customer_ids(cells: pa.Array) -> npt.NDArray[np.int64]:
            positions = pc.index_in(pc.utf8_trim(cells, characters=" "), value_set=external_ids)
            return ids[positions.to_numpy(zero_copy_only=False)]

        return customer_ids

    def _add_and_read(self, cursor: Any) -> tuple[pa.Array, npt.NDArray[np.int64]]:
        """Add new customers and fill known ones through the SQL path's statements; read the ids."""
        if self.values is None:
            # Some customer has several genders or ages in the file (or odd ones): PostgreSQL picks.
            cursor.execute("CREATE TEMP TABLE imp_customers (raw text, gender text, age text) ON COMMIT DROP")
            _copy_csv(cursor, "imp_customers (raw, gender, age)", self.triples)
            customer_values_build(cursor)
        else:
            cursor.execute(
                "CREATE TEMP TABLE imp_customer_values (external_id text, gender text, age smallint) ON COMMIT DROP"
            )
            _copy_csv(cursor, "imp_customer_values (external_id, gender, age)", self.values)
        customers_add(cursor, raw_lookup=False)
        buffer = io.BytesIO()
        with cursor.copy(
            "COPY (SELECT v.external_id, c.id FROM imp_customer_values v "
            "JOIN analytics_customer c USING (external_id)) TO STDOUT (FORMAT csv)"
        ) as copy:
            for data in copy:
                buffer.write(data)
        ids = pacsv.read_csv(
            io.BytesIO(buffer.getvalue()),
            read_options=pacsv.ReadOptions(column_names=["external_id", "id"]),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={"external_id": pa.string(), "id": pa.int64()}, strings_can_be_null=False
            ),
        )
        return ids.column("external_id").combine_chunks(), ids.column("id").to_numpy()


def _copy_csv_bulk(cursor: Any, table_name: str, columns: list[str], table: pa.Table) -> None:
    """COPY rows into an empty table; when they are many, its primary key and unique constraints are
    dropped first and built again after, in one sorted pass each (as the lines' bulk path does).
    That locks the table until the import commits, so it waits a few seconds for the lock at most
    and otherwise copies the usual way. Raw SQL savepoints: this runs on the second thread, where
    Django's transaction management does not see the import's transaction."""
    target = f"{table_name} ({', '.join(columns)})"
    if len(table) < BULK_MIN_ROWS:
        _copy_csv(cursor, target, table)
        return
    cursor.execute(
        f"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conrelid = '{table_name}'::regclass AND contype IN ('p', 'u') ORDER BY contype"
    )
    constraints = cursor.fetchall()
    cursor.execute("SAVEPOINT imp_bulk")
    try:
        cursor.execute(f"SET LOCAL lock_timeout = '{BULK_LOCK_WAIT}'")
        cursor.execute(f"ALTER TABLE {table_name} " + ", ".join(f"DROP CONSTRAINT {name}" for name, _ in constraints))
    except psycopg.errors.LockNotAvailable:
        logger.info("Bulk load of %s skipped: the table is in use", table_name)
        cursor.execute("ROLLBACK TO SAVEPOINT imp_bulk")
        cursor.execute("SET LOCAL lock_timeout = 0")
        _copy_csv(cursor, target, table)
        return
    cursor.execute("SET LOCAL lock_timeout = 0")
    cursor.execute("RELEASE SAVEPOINT imp_bulk")
    _copy_csv(cursor, target, table)
    # One statement per constraint: a Citus cluster takes no other subcommand beside an ADD CONSTRAINT.
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {table_name} ADD CONSTRAINT {name} {definition}")


def _copy_csv(cursor: Any, target: str, table: pa.Table) -> None:
    data = io.BytesIO()
    pacsv.write_csv(table, data, write_options=pacsv.WriteOptions(include_header=False))
    with cursor.copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy:
        copy.write(data.getbuffer())


def _new_rows(cursor: Any, keys: npt.NDArray[np.void], *, batch_id: int) -> npt.NDArray[np.bool_]:
    """Which rows' keys are not in the table yet (lines already imported are duplicates, which the batch
    claims: see LineClaim). A key is looked up in the primary key's index (a few keys against many
    lines) or by a hash join, as the planner sees fit: nested loops are allowed for this one query.
    The lines found give their customers to the claims. (On a Citus cluster every shard looks the
    keys up in its own part of the lines.)"""
    new = np.ones(len(keys), dtype=np.bool_)
    if not len(keys):
        return new
    cursor.execute("CREATE TEMP TABLE imp_keys (k uuid) ON COMMIT DROP")
    raw_cursor = getattr(cursor, "cursor", cursor)
    with raw_cursor.copy("COPY imp_keys (k) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(SIGNATURE)
        rows = np.empty(len(keys), dtype=[("count", ">i2"), ("length", ">i4"), ("key", "V16")])
        rows["count"], rows["length"], rows["key"] = 1, 16, keys
        copy.write(rows.tobytes())
        copy.write(TRAILER)
    cursor.execute("ANALYZE imp_keys")
    cursor.execute("SET LOCAL enable_nestloop = on")
    present = io.BytesIO()
    with raw_cursor.copy(
        "COPY (SELECT t.row_key, t.customer_id FROM analytics_transactionline t JOIN imp_keys ON t.row_key = k) "
        "TO STDOUT (FORMAT BINARY)"
    ) as copy:
        for data in copy:
            present.write(data)
    cursor.execute("SET LOCAL enable_nestloop = off")
    body = present.getvalue()[len(SIGNATURE) : -len(TRAILER)]
    found = np.frombuffer(body, dtype=_FOUND_ROW)
    if len(found):
        new = ~np.isin(keys, found["key"])
        _claims_copy(raw_cursor, found, batch_id=batch_id)
    return new


# A line found by its key, as binary COPY sends it: field count, then each field's length and value.
_FOUND_ROW = np.dtype(
    [("count", ">i2"), ("key_length", ">i4"), ("key", "V16"), ("customer_length", ">i4"), ("customer", ">i8")]
)


def _claims_copy(raw_cursor: Any, found: npt.NDArray[np.void], *, batch_id: int) -> None:
    """The batch's claims on lines already imported (their keys and customers), in one binary COPY."""
    rows = np.empty(
        len(found),
        dtype=[
            ("count", ">i2"),
            ("key_length", ">i4"),
            ("key", "V16"),
            ("customer_length", ">i4"),
            ("customer", ">i8"),
            ("batch_length", ">i4"),
            ("batch", ">i8"),
        ],
    )
    rows["count"], rows["key_length"], rows["key"] = 3, 16, found["key"]
    rows["customer_length"], rows["customer"] = 8, found["customer"]
    rows["batch_length"], rows["batch"] = 8, batch_id
    with raw_cursor.copy(
        "COPY analytics_lineclaim (row_key, customer_id, batch_id) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.write(SIGNATURE + rows.tobytes() + TRAILER)
