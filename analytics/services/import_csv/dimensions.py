"""Dates, stores, categories, payment methods and customers: the import steps both paths share.

Each step works on distinct raw cells (a few thousand dates and names, the file's customers), so the
SQL path and the columnar path check and store them through the very same SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from analytics.mappings import DIMENSIONS, MAX_LENGTHS
from analytics.services.import_csv.dates import DatesRead, dates_read
from analytics.services.import_csv.statements import (
    AGE_PATTERN,
    DIMENSION_TABLES,
    LOOKUP_TABLES,
    MAX_AGE,
    ImportStatements,
)

# The distinct raw cells of each column a step reads (None: an empty cell).
DistinctValues = Mapping[str, Sequence[str | None]]


def distinct_values_bad(statements: ImportStatements, values: DistinctValues) -> bool:
    """Whether a store, category, payment method, gender or age cell is one the checks reject (cells
    are trimmed of spaces only, as PostgreSQL's btrim trims them)."""
    for name in (*DIMENSIONS, "gender"):
        if any(len((raw or "").strip(" ")) > MAX_LENGTHS[name] for raw in values.get(name, [])):
            return True
    for raw in values.get("age", []):
        text = (raw or "").strip(" ")
        if text and not (re.fullmatch(AGE_PATTERN, text) and int(text) <= MAX_AGE):
            return True
    return False


def dates_lookup(cursor: Any, statements: ImportStatements, raws: Sequence[str | None]) -> DatesRead:
    """Read the file's distinct date cells by the date rule (`dates.dates_read`) and create the date
    lookup `imp_dates` (raw cell -> date, or NULL and the reason it is not one)."""
    reading = dates_read(raws, statements.spec.date_format)
    cells = list(reading.cells)
    cursor.execute("CREATE TEMP TABLE imp_dates (raw text, d date, problem text) ON COMMIT DROP")
    cursor.execute(
        "INSERT INTO imp_dates (raw, d, problem) SELECT * FROM unnest(%s::text[], %s::date[], %s::text[])",
        [
            cells,
            [reading.cells[raw].date for raw in cells],
            [None if reading.cells[raw].date else reading.reason(raw) for raw in cells],
        ],
    )
    cursor.execute("ANALYZE imp_dates")
    return reading


def defaults_warnings(statements: ImportStatements, values: DistinctValues, *, rows: int) -> list[str]:
    """A warning for each store, category or payment method that every row takes from the mapping's
    defaults (the file lacks the column, or leaves it empty on every row)."""
    warnings = []
    for name in DIMENSIONS:
        label = name.replace("_", " ")
        if not statements.has(name):
            mapped = statements.spec.columns.get(name)
            what = f"No {label} column" + (f" ('{mapped}' is not in the file)" if mapped else "")
        elif all(not (raw or "").strip() for raw in values.get(name, [])):
            what = f"The {label} column '{statements.column_name(name)}' is empty"
        else:
            continue
        warnings.append(f"{what}: all {rows:,} rows filed under '{statements.spec.defaults[name]}'.")
    return warnings


def dimensions_load(
    cursor: Any, statements: ImportStatements, values: DistinctValues, *, lookup_tables: bool = True
) -> dict[str, dict[str, int]]:
    """Add the stores, categories and payment methods not seen before; return, per dimension, the
    id of each raw cell ('' for a column the file lacks). With `lookup_tables`, also create the
    lookups `imp_store`, `imp_category`, `imp_payment` (raw cell -> id) for the SQL path's joins."""
    defaults = statements.spec.defaults
    lookups: dict[str, dict[str, int]] = {}
    for name in DIMENSIONS:
        raws = [raw or "" for raw in values.get(name, [])] if statements.has(name) else [""]
        names = [raw.strip() or defaults[name] for raw in raws]
        pairs = [(raw, text) for raw, text in zip(raws, names, strict=True) if len(text) <= MAX_LENGTHS[name]]
        table, lookup = DIMENSION_TABLES[name], LOOKUP_TABLES[name]
        # New names take their ids in name order, on one server and on a cluster alike (a DISTINCT's
        # order is the plan's: hashed on one, sorted on the other).
        cursor.execute(
            f"INSERT INTO {table} (name) SELECT name FROM (SELECT DISTINCT unnest(%s::text[]) AS name) AS new "
            "ORDER BY name ON CONFLICT (name) DO NOTHING",
            [[text for _, text in pairs]],
        )
        cursor.execute(f"SELECT name, id FROM {table} WHERE name = ANY(%s::text[])", [[text for _, text in pairs]])
        ids = dict(cursor.fetchall())
        lookups[name] = {raw: ids[text] for raw, text in pairs}
        if lookup_tables:
            cursor.execute(
                f"CREATE TEMP TABLE {lookup} ON COMMIT DROP AS SELECT * FROM unnest(%s::text[], %s::bigint[]) "
                "AS r(raw, id)",
                [list(lookups[name]), list(lookups[name].values())],
            )
            cursor.execute(f"ANALYZE {lookup}")
    return lookups


def customer_values_build(cursor: Any) -> None:
    """`imp_customer_values` (trimmed id, gender, age: one row per customer) from `imp_customers`,
    the file's distinct customer, gender and age cells. A customer's gender and age are the
    greatest of its cells (an empty gender or an unreadable age never wins)."""
    cursor.execute(
        """
        CREATE TEMP TABLE imp_customer_values ON COMMIT DROP AS
        SELECT btrim(raw) AS external_id, coalesce(max(left(btrim(gender), 20)), '') AS gender,
               max(CASE WHEN btrim(age) ~ %(age_pattern)s
                        THEN CASE WHEN btrim(age)::smallint <= %(max_age)s THEN btrim(age)::smallint END
                   END) AS age
        FROM imp_customers WHERE btrim(raw) <> '' GROUP BY 1
        """,
        {"age_pattern": AGE_PATTERN, "max_age": MAX_AGE},
    )


def customers_add(cursor: Any, *, raw_lookup: bool = True) -> None:
    """Add the customers of `imp_customer_values` not seen before and fill a known customer's
    missing gender or age. With `raw_lookup`, create the lookup `imp_customer_ids` (raw customer
    cell of `imp_customers` -> id) too."""
    cursor.execute("SELECT count(*) FROM imp_customer_values")
    (distinct_customers,) = cursor.fetchone()
    # A plain insert behind an anti-join: the data-write lock keeps other writers out meanwhile. (The
    # subquery keeps the join of this session's table with the customers a read: a Citus cluster,
    # where the customers are a reference table, writes it to every node only then.)
    cursor.execute(
        """
        INSERT INTO analytics_customer (external_id, gender, age)
        SELECT * FROM (
            SELECT v.external_id, v.gender, v.age FROM imp_customer_values v
            WHERE NOT EXISTS (SELECT 1 FROM analytics_customer c WHERE c.external_id = v.external_id)
            OFFSET 0
        ) AS new ORDER BY external_id
        """
    )
    if cursor.rowcount < distinct_customers:
        # Known customers whose gender or age the file fills in: read first, then written by value.
        cursor.execute(
            """
            SELECT c.id, CASE WHEN c.gender = '' THEN v.gender ELSE c.gender END, coalesce(c.age, v.age)
            FROM imp_customer_values v JOIN analytics_customer c ON c.external_id = v.external_id
            WHERE (c.gender = '' AND v.gender <> '') OR (c.age IS NULL AND v.age IS NOT NULL)
            """
        )
        filled = cursor.fetchall()
        if filled:
            ids, genders, ages = (list(column) for column in zip(*filled, strict=True))
            cursor.execute(
                "UPDATE analytics_customer c SET gender = v.gender, age = v.age "
                "FROM unnest(%s::bigint[], %s::text[], %s::smallint[]) AS v(id, gender, age) WHERE c.id = v.id",
                [ids, genders, ages],
            )
    if not raw_lookup:
        return
    cursor.execute(
        "CREATE TEMP TABLE imp_customer_ids ON COMMIT DROP AS "
        "SELECT i.raw, c.id FROM (SELECT DISTINCT raw FROM imp_customers) i "
        "JOIN analytics_customer c ON c.external_id = btrim(i.raw)"
    )
    cursor.execute("ANALYZE imp_customer_ids")
