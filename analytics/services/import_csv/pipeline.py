"""The stages of one import inside its transaction: read, validate, load (aggregates are the caller's).

Two paths import a file. The columnar path (`columnar.py`) is tried first: Arrow and numpy in this
process, one binary COPY into PostgreSQL, for a file whose every cell it reads with certainty. It
declines any other file before writing a row, and the SQL path below imports it, checking every
row and reporting every problem; so it does, after a rollback to a savepoint, when anything fails
in the columnar path later. Both store the same lines for the same file.

The SQL path:
read      the file is looked at (text? encoding, delimiter, header) and COPied into a staging table
validate  the distinct date cells are read by the date rule (`dates.py`, in Python); numbers (by the
          number rule, `statements.NUMBER_PATTERNS`), required and over-long cells are checked in
          SQL; problems are listed with their row, column, value and reason
load      new stores, categories, payment methods and customers are added, then the lines are
          inserted with one INSERT ... SELECT; a line already present (same content, same
          occurrence in its file) is skipped and counted as a duplicate

Anything wrong raises ImportFailure, and the caller's transaction rolls back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction

from analytics.mappings import ColumnMappingSpec, header_resolve
from analytics.services.import_csv.dimensions import (
    DistinctValues,
    customer_values_build,
    customers_add,
    dates_lookup,
    defaults_warnings,
    dimensions_load,
    distinct_values_bad,
)
from analytics.services.import_csv.lines_table import lines_load
from analytics.services.import_csv.progress import ProgressWriter
from analytics.services.import_csv.reading import (
    SAMPLE_BYTES,
    FileFacts,
    ImportFailure,
    delimiter_name,
    error_entry,
    file_facts_read,
)
from analytics.services.import_csv.staging import staging_create, staging_load
from analytics.services.import_csv.statements import LOOKUP_TABLES, ImportStatements
from retail_platform.citus import citus_layout_active

MAX_ERRORS_KEPT = 1000
TEMP_BUFFERS = "256MB"
logger = logging.getLogger(__name__)
TEMP_TABLES = ("imp_dates", "imp_customers", "imp_customer_values", "imp_customer_ids", *LOOKUP_TABLES.values())
COLUMNAR_TEMP_TABLES = ("imp_keys",)


@dataclass
class ImportOutcome:
    rows_read: int = 0
    imported: int = 0
    rejected: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    encoding: str = ""
    delimiter: str = ""
    # "columnar" or "sql": which path imported the file (see the module docstring).
    path: str = ""


def import_file_run(
    *,
    batch_id: int,
    file_name: str,
    opener: Callable[[], IO[bytes]],
    size: int,
    spec: ColumnMappingSpec,
    mapping_label: str,
    skip_invalid: bool,
    skip_invalid_hint: str,
    progress: ProgressWriter,
) -> ImportOutcome:
    """Stage, check and load one file. Must run inside the import's transaction. `skip_invalid_hint`
    tells a person how to import the valid rows where the file came in ("import it with
    --skip-invalid"), for the message of a file refused for its invalid rows."""
    outcome = ImportOutcome()
    staging = f"imp_staging_{batch_id}"
    with connection.cursor() as cursor:
        started = time.perf_counter()
        progress.update("read", 0)
        with opener() as source:
            sample = source.read(SAMPLE_BYTES)
        facts = file_facts_read(sample, file_name=file_name, spec=spec)
        resolved = header_resolve(spec, facts.header)
        if resolved.missing_required:
            _missing_columns_fail(file_name, mapping_label, spec, resolved.missing_required, facts.header)
        outcome.delimiter = facts.delimiter
        outcome.warnings.extend(
            f"Column '{column}' is not in the mapping '{mapping_label}' and was ignored." for column in resolved.unknown
        )
        outcome.warnings.extend(
            f"Column '{column}' appears more than once; the first one was used."
            for column in resolved.duplicate_headers
        )
        statements = ImportStatements(spec=spec, positions=resolved.positions, headers=facts.header, staging=staging)
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Bulk joins of a big staging table with small lookups: hash joins, never nested loops (the
        # planner's guesses for joins on raw text are poor).
        cursor.execute("SET LOCAL enable_nestloop = off")
        for table in TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        _temp_buffers_raise(cursor)
        if settings.IMPORT_COLUMNAR and _columnar_run(
            cursor, statements, outcome, facts=facts, opener=opener, size=size, batch_id=batch_id, progress=progress
        ):
            return outcome
        staging_create(cursor, table=staging, cell_count=len(facts.header))
        outcome.encoding = staging_load(
            cursor,
            table=staging,
            facts=facts,
            opener=opener,
            size=size,
            file_name=file_name,
            progress=lambda percent: progress.update("read", percent),
        )
        if outcome.encoding == "LATIN1":
            outcome.warnings.append("The file is not UTF-8; it was read as Latin-1.")
        _staging_analyze(cursor, staging)
        outcome.timings["read"] = time.perf_counter() - started

        started = time.perf_counter()
        progress.update("validate", 0)
        cursor.execute(f"SELECT count(*), count(cells) FROM {staging}")
        rows, ragged = cursor.fetchone()
        outcome.rows_read = rows
        if rows == 0:
            raise ImportFailure(
                f"{file_name}: row 2: the file has a header but no data rows.",
                errors=[error_entry(2, "", "", "no data rows after the header")],
                warnings=outcome.warnings,
            )
        values = _distinct_values(cursor, statements)
        dates = dates_lookup(cursor, statements, values.get("date", []))
        outcome.warnings.extend(dates.warnings)
        # Problems already visible in the distinct values skip the optimistic load below.
        known_bad = bool(ragged) or not dates.all_read or distinct_values_bad(statements, values)
        outcome.timings["validate"] = time.perf_counter() - started

        # Optimistic load: a cell that is not what its column needs makes a cast or a NOT NULL
        # constraint fail, so a good file is checked while it loads, in one pass. Only when the
        # load fails (or rows were ragged) are the rows checked one by one, to say what is wrong.
        started = time.perf_counter()
        progress.update("load", 0)
        checking = 0.0
        load_error: Exception | None = None
        if not known_bad:
            try:
                with transaction.atomic():
                    _load(cursor, statements, outcome, values, batch_id=batch_id, progress=progress)
            except (DataError, IntegrityError, _InvalidCells) as error:
                load_error = error
        if known_bad or load_error is not None:
            checked = time.perf_counter()
            progress.update("validate", 50)
            _validate(
                cursor,
                statements,
                outcome,
                file_name=file_name,
                skip_invalid=skip_invalid,
                skip_invalid_hint=skip_invalid_hint,
                error=load_error,
            )
            values = _distinct_values(cursor, statements)
            checking = time.perf_counter() - checked
            outcome.timings["validate"] += checking
            progress.update("load", 0)
            _load(cursor, statements, outcome, values, batch_id=batch_id, progress=progress)
        for table in (staging, *TEMP_TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute("SET LOCAL enable_nestloop = on")
        outcome.timings["load"] = time.perf_counter() - started - checking
    outcome.warnings.extend(defaults_warnings(statements, values, rows=outcome.rows_read - outcome.rejected))
    outcome.path = "sql"
    return outcome


def _columnar_run(
    cursor: Any,
    statements: ImportStatements,
    outcome: ImportOutcome,
    *,
    facts: FileFacts,
    opener: Callable[[], IO[bytes]],
    size: int,
    batch_id: int,
    progress: ProgressWriter,
) -> bool:
    """Import the file through the columnar path when it takes the file; False (nothing written)
    when it declines, and the SQL path then imports it. Its time counts in the SQL path's read."""
    # Arrow and numpy are imported here, by the worker: web processes import this module but never import.
    from analytics.services.import_csv.columnar import columnar_import
    from analytics.services.import_csv.columnar_lines import ColumnarDeclined

    try:
        with transaction.atomic():
            result = columnar_import(
                cursor=cursor,
                statements=statements,
                facts=facts,
                opener=opener,
                size=size,
                batch_id=batch_id,
                progress=progress,
            )
            for table in (*TEMP_TABLES, *COLUMNAR_TEMP_TABLES):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    except ColumnarDeclined as reason:
        logger.info("Import batch %s takes the SQL path: %s", batch_id, reason)
        return False
    except (DatabaseError, psycopg.Error) as error:
        # Something the columnar checks let through and PostgreSQL refused: the SQL path will say what.
        logger.warning("Import batch %s takes the SQL path after the columnar load failed: %s", batch_id, error)
        return False
    except Exception:
        # A fault of the columnar path must never cost an import: the SQL path imports the file.
        logger.exception("Import batch %s takes the SQL path after a fault in the columnar path", batch_id)
        return False
    outcome.path = "columnar"
    outcome.encoding = facts.pg_encoding
    if facts.pg_encoding == "LATIN1":
        outcome.warnings.append("The file is not UTF-8; it was read as Latin-1.")
    outcome.rows_read = result.rows_read
    outcome.imported = result.imported
    outcome.duplicates = result.rows_read - result.imported
    outcome.warnings.extend(result.warnings)
    outcome.timings.update(result.timings)
    return True


def _temp_buffers_raise(cursor: Any) -> None:
    """Let the staging table live in memory (PostgreSQL's default is 8 MB of temporary buffers).

    The setting only takes before the session first uses a temporary table, so it is made once per
    connection, for the whole session; later imports on the connection keep it."""
    try:
        with transaction.atomic():
            cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
    except DatabaseError:
        logger.debug("temp_buffers stays as it is: this session already used temporary tables")


class _InvalidCells(Exception):
    """Raised by the optimistic load when a check found a cell that loads without an error."""


def _staging_analyze(cursor: Any, staging: str) -> None:
    """Statistics for the planner from a small sample (the joins depend on the row counts)."""
    cursor.execute("SET LOCAL default_statistics_target = 10")
    cursor.execute(f"ANALYZE {staging}")
    cursor.execute("SET LOCAL default_statistics_target = DEFAULT")


def _validate(
    cursor: Any,
    statements: ImportStatements,
    outcome: ImportOutcome,
    *,
    file_name: str,
    skip_invalid: bool,
    skip_invalid_hint: str,
    error: Exception | None,
) -> None:
    """Check every row; list the problems. Raises ImportFailure unless skipping the bad rows."""
    staging = statements.staging
    cursor.execute(statements.count_sql())
    _, bad = cursor.fetchone()
    if not bad and error is None:
        return  # the distinct values looked suspicious, but every row passes
    if not bad:
        # The load failed on something the checks do not know: say what PostgreSQL said.
        detail = str(getattr(error, "__cause__", None) or error).strip().splitlines()[0] if error else "unknown error"
        raise ImportFailure(
            f"{file_name}: the rows could not be loaded ({detail}).",
            rows_read=outcome.rows_read,
            warnings=outcome.warnings,
        )
    listing, counting = statements.errors_sql(limit=MAX_ERRORS_KEPT)
    cursor.execute(listing)
    outcome.errors = [error_entry(row, column, value, reason) for row, column, value, reason in cursor.fetchall()]
    cursor.execute(counting)
    outcome.error_count = cursor.fetchone()[0]
    outcome.rejected = bad
    if not skip_invalid or bad == outcome.rows_read:
        _invalid_rows_fail(file_name, outcome, skip_invalid=skip_invalid, hint=skip_invalid_hint)
    cursor.execute(
        f"DELETE FROM {staging} WHERE ctid IN (SELECT s.ctid FROM {staging} s {statements.date_join()} "
        f"WHERE {statements.bad_row()})"
    )


def _load(
    cursor: Any,
    statements: ImportStatements,
    outcome: ImportOutcome,
    values: DistinctValues,
    *,
    batch_id: int,
    progress: ProgressWriter,
) -> None:
    dimensions_load(cursor, statements, values)
    progress.update("load", 10)
    cursor.execute(statements.customers_sql())
    customer_values_build(cursor)
    customers_add(cursor)
    progress.update("load", 30)
    valid = outcome.rows_read - outcome.rejected
    # On a Citus cluster an INSERT ... SELECT from this session's tables goes through the coordinator,
    # and its row count with ON CONFLICT DO NOTHING is the rows sent, not those inserted: the batch's
    # lines are counted instead (each line inserted is the batch's, a duplicate stays another's).
    cluster = citus_layout_active()
    imported = _lines_insert(cursor, statements, batch_id=batch_id, rows=valid, bulk=not cluster)
    if cluster:
        imported = _batch_lines(cursor, batch_id)
    progress.update("load", 90)
    if imported < valid:
        # Either lines already imported, or lines repeated within this file: the 2nd, 3rd, ...
        # copy of a line has its own key, and only lines already present are duplicates.
        cursor.execute(statements.repeated_lines_sql(batch_id=batch_id))
        imported = _batch_lines(cursor, batch_id) if cluster else imported + cursor.rowcount
    outcome.imported = imported
    outcome.duplicates = valid - imported
    if outcome.duplicates:
        cursor.execute(statements.claims_sql(batch_id=batch_id))


def _batch_lines(cursor: Any, batch_id: int) -> int:
    cursor.execute("SELECT count(*) FROM analytics_transactionline WHERE batch_id = %s", [batch_id])
    return int(cursor.fetchone()[0])


def _lines_insert(cursor: Any, statements: ImportStatements, *, batch_id: int, rows: int, bulk: bool) -> int:
    """Insert the lines; return how many went in (see `lines_table` for the bulk path, which a Citus
    cluster does not take here: its anti-join of this session's rows with the lines cannot run there)."""

    def insert(bulk: bool) -> int:
        if not bulk:
            cursor.execute(statements.insert_sql(batch_id=batch_id))
            return cursor.rowcount
        cursor.execute("SELECT EXISTS (SELECT 1 FROM analytics_transactionline)")
        (has_lines,) = cursor.fetchone()
        # Into an empty table there is nothing to leave out: skip the anti-join (a hash probe per line).
        sql = (
            statements.bulk_insert_sql(batch_id=batch_id)
            if has_lines
            else statements.plain_insert_sql(batch_id=batch_id)
        )
        cursor.execute(sql)
        return cursor.rowcount

    return lines_load(
        cursor,
        rows=rows if bulk else 0,
        insert=insert,
        keys_renumber_sql=statements.keys_renumber_sql(batch_id=batch_id),
    )


def _missing_columns_fail(
    file_name: str,
    mapping_label: str,
    spec: ColumnMappingSpec,
    missing: tuple[tuple[str, str], ...],
    header: list[str],
) -> None:
    columns = ", ".join(f"'{column}'" for _, column in missing)
    found = ", ".join(cell.replace("\ufeff", "").strip() for cell in header)
    raise ImportFailure(
        f"{file_name}: row 1, column {columns}: required column missing "
        f"(mapping '{mapping_label}' needs {', '.join(f'{name} → {column!r}' for name, column in missing)}). "
        f"The header has: {found}.",
        errors=[
            error_entry(1, column, "", f"required column missing (the {name} of each line)") for name, column in missing
        ],
    )


def _invalid_rows_fail(file_name: str, outcome: ImportOutcome, *, skip_invalid: bool, hint: str) -> None:
    first = outcome.errors[0]
    where = f"row {first['row']}" + (f", column '{first['column']}'" if first["column"] else "")
    value = f" ('{first['value']}')" if first["value"] else ""
    more = outcome.error_count - 1
    tail = (
        f" And {more} more problem{'s' if more != 1 else ''} in {outcome.rejected} row{_plural(outcome.rejected)}."
        if more
        else ""
    )
    if skip_invalid:
        advice = " No row could be imported."
    else:
        advice = f" Nothing was imported; fix the file, or {hint} to load the valid rows."
    raise ImportFailure(
        f"{file_name}: {where}: {first['reason']}{value}.{tail}{advice}",
        errors=outcome.errors,
        error_count=outcome.error_count,
        rows_read=outcome.rows_read,
        warnings=outcome.warnings,
    )


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _distinct_values(cursor: Any, statements: ImportStatements) -> dict[str, list[str | None]]:
    values: dict[str, list[str | None]] = {}
    sql = statements.distinct_values_sql()
    if sql:
        cursor.execute(sql)
        for field_name, raw in cursor.fetchall():
            values.setdefault(field_name, []).append(raw)
    return values


def describe(outcome: ImportOutcome, file_name: str) -> str:
    parts = [f"{file_name}: imported {outcome.imported:,} of {outcome.rows_read:,} rows"]
    if outcome.duplicates:
        parts.append(f"{outcome.duplicates:,} already imported (duplicates skipped)")
    if outcome.rejected:
        parts.append(f"{outcome.rejected:,} rejected (see the error report)")
    text = "; ".join(parts) + "."
    if outcome.imported == 0 and outcome.duplicates == outcome.rows_read:
        text = f"{file_name}: nothing new — all {outcome.rows_read:,} rows were already imported."
    return text + f" Read as {outcome.encoding or 'UTF8'}, {delimiter_name(outcome.delimiter)}-separated."
