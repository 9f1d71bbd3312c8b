"""The stages of one import inside its transaction: read, validate, load (aggregates are the caller's).

read      the file is looked at (text? encoding, delimiter, header) and COPied into a staging table
validate  dates, numbers, required and over-long cells are checked in SQL; problems are listed with
          their row, column, value and reason
load      new stores, categories, payment methods and customers are added, then the lines are
          inserted with one INSERT ... SELECT; a line already present (same content, same
          occurrence in its file) is skipped and counted as a duplicate

Anything wrong raises ImportFailure, and the caller's transaction rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import connection

from analytics.mappings import DIMENSIONS, MAX_LENGTHS, ColumnMappingSpec, header_resolve
from analytics.services.import_csv.progress import ProgressWriter
from analytics.services.import_csv.reading import (
    SAMPLE_BYTES,
    ImportFailure,
    delimiter_name,
    error_entry,
    file_facts_read,
)
from analytics.services.import_csv.staging import staging_create, staging_load
from analytics.services.import_csv.statements import (
    DIMENSION_TABLES,
    EARLIEST_DATE,
    LATEST_DATE,
    LOOKUP_TABLES,
    ImportStatements,
)

MAX_ERRORS_KEPT = 1000
TEMP_TABLES = ("imp_dates", "imp_customers", "imp_customer_ids", *LOOKUP_TABLES.values())


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


def import_file_run(
    *,
    batch_id: int,
    file_name: str,
    opener: Callable[[], IO[bytes]],
    size: int,
    spec: ColumnMappingSpec,
    mapping_label: str,
    skip_invalid: bool,
    progress: ProgressWriter,
) -> ImportOutcome:
    """Stage, check and load one file. Must run inside the import's transaction."""
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
        cursor.execute(f"SET LOCAL datestyle = '{statements.datestyle}'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Bulk joins of a big staging table with small lookups: hash joins, never nested loops (the
        # planner's guesses for joins on raw text are poor).
        cursor.execute("SET LOCAL enable_nestloop = off")
        for table in TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
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
        cursor.execute(f"ANALYZE {staging}")
        if outcome.encoding == "LATIN1":
            outcome.warnings.append("The file is not UTF-8; it was read as Latin-1.")
        outcome.timings["read"] = time.perf_counter() - started

        started = time.perf_counter()
        progress.update("validate", 0)
        values = _distinct_values(cursor, statements)
        _dates_lookup(cursor, values.get("date", []))
        progress.update("validate", 30)
        cursor.execute(statements.count_sql())
        rows, bad = cursor.fetchone()
        outcome.rows_read = rows
        if rows == 0:
            raise ImportFailure(
                f"{file_name}: row 2: the file has a header but no data rows.",
                errors=[error_entry(2, "", "", "no data rows after the header")],
                warnings=outcome.warnings,
            )
        if bad:
            progress.update("validate", 60)
            listing, counting = statements.errors_sql(limit=MAX_ERRORS_KEPT)
            cursor.execute(listing)
            outcome.errors = [
                error_entry(row, column, value, reason) for row, column, value, reason in cursor.fetchall()
            ]
            cursor.execute(counting)
            outcome.error_count = cursor.fetchone()[0]
            outcome.rejected = bad
            if not skip_invalid or bad == rows:
                _invalid_rows_fail(file_name, outcome, skip_invalid=skip_invalid)
            cursor.execute(
                f"DELETE FROM {staging} WHERE ctid IN (SELECT s.ctid FROM {staging} s {statements.date_join()} "
                f"WHERE {statements.bad_row()})"
            )
            values = _distinct_values(cursor, statements)
        outcome.timings["validate"] = time.perf_counter() - started

        started = time.perf_counter()
        progress.update("load", 0)
        _dimensions_load(cursor, statements, values)
        progress.update("load", 10)
        _customers_load(cursor, statements)
        progress.update("load", 30)
        cursor.execute(statements.insert_sql(batch_id=batch_id, only_valid=False))
        imported = cursor.rowcount
        valid = rows - outcome.rejected
        if imported < valid:
            # Either lines already imported, or lines repeated within this file: the 2nd, 3rd, ...
            # copy of a line has its own key, and only lines already present are duplicates.
            progress.update("load", 80)
            cursor.execute(statements.repeated_lines_sql(batch_id=batch_id, only_valid=False))
            imported += cursor.rowcount
        outcome.imported = imported
        outcome.duplicates = valid - imported
        for table in (staging, *TEMP_TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute("SET LOCAL enable_nestloop = on")
        outcome.timings["load"] = time.perf_counter() - started
    return outcome


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


def _invalid_rows_fail(file_name: str, outcome: ImportOutcome, *, skip_invalid: bool) -> None:
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
        advice = " Nothing was imported; fix the file, or import with --skip-invalid to load the valid rows."
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
    sql = statements.distinct_values_sql(only_valid=False)
    if sql:
        cursor.execute(sql)
        for field_name, raw in cursor.fetchall():
            values.setdefault(field_name, []).append(raw)
    return values


def _dates_lookup(cursor: Any, raws: list[str | None]) -> None:
    cursor.execute("CREATE TEMP TABLE imp_dates (raw text, d date) ON COMMIT DROP")
    cursor.execute("INSERT INTO imp_dates (raw) SELECT DISTINCT unnest(%s::text[])", [raws])
    # Words PostgreSQL reads as dates (today, epoch, infinity) are not dates in a sales file.
    cursor.execute(
        r"UPDATE imp_dates SET d = CASE WHEN raw ~ '^\s*[0-9]' AND pg_input_is_valid(raw, 'date') THEN raw::date END"
    )
    cursor.execute("UPDATE imp_dates SET d = NULL WHERE d < %s OR d > %s", [EARLIEST_DATE, LATEST_DATE])
    cursor.execute("ANALYZE imp_dates")


def _dimensions_load(cursor: Any, statements: ImportStatements, values: dict[str, list[str | None]]) -> None:
    defaults = statements.spec.defaults
    for name in DIMENSIONS:
        raws = [raw or "" for raw in values.get(name, [])] if statements.has(name) else [""]
        names = [raw.strip() or defaults[name] for raw in raws]
        pairs = [(raw, text) for raw, text in zip(raws, names, strict=True) if len(text) <= MAX_LENGTHS[name]]
        table, lookup = DIMENSION_TABLES[name], LOOKUP_TABLES[name]
        cursor.execute(
            f"INSERT INTO {table} (name) SELECT DISTINCT unnest(%s::text[]) ON CONFLICT (name) DO NOTHING",
            [[text for _, text in pairs]],
        )
        cursor.execute(
            f"CREATE TEMP TABLE {lookup} ON COMMIT DROP AS SELECT r.raw, d.id FROM "
            f"unnest(%s::text[], %s::text[]) AS r(raw, name) JOIN {table} d ON d.name = r.name",
            [[raw for raw, _ in pairs], [text for _, text in pairs]],
        )
        cursor.execute(f"ANALYZE {lookup}")


def _customers_load(cursor: Any, statements: ImportStatements) -> None:
    cursor.execute(statements.customers_sql(only_valid=False))
    cursor.execute(
        """
        INSERT INTO analytics_customer (external_id, gender, age)
        SELECT DISTINCT ON (external_id) external_id, gender, age FROM (
            SELECT btrim(raw) AS external_id,
                   left(coalesce(btrim(gender), ''), 20) AS gender,
                   CASE WHEN pg_input_is_valid(btrim(age), 'smallint')
                        THEN CASE WHEN btrim(age)::smallint BETWEEN 0 AND 150 THEN btrim(age)::smallint END
                   END AS age
            FROM imp_customers
        ) c
        WHERE external_id <> ''
        ORDER BY external_id, gender DESC, age
        ON CONFLICT (external_id) DO UPDATE
        SET gender = CASE WHEN analytics_customer.gender = '' THEN EXCLUDED.gender ELSE analytics_customer.gender END,
            age = coalesce(analytics_customer.age, EXCLUDED.age)
        WHERE (analytics_customer.gender = '' AND EXCLUDED.gender <> '')
           OR (analytics_customer.age IS NULL AND EXCLUDED.age IS NOT NULL)
        """
    )
    cursor.execute(
        "CREATE TEMP TABLE imp_customer_ids ON COMMIT DROP AS "
        "SELECT i.raw, c.id FROM imp_customers i JOIN analytics_customer c ON c.external_id = btrim(i.raw)"
    )
    cursor.execute("ANALYZE imp_customer_ids")


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
