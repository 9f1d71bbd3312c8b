"""Keeping the read model current: the write entry the importer (and the deletion of an import) calls,
and the rebuild from every line.

`warehouse_batch_add(batch_id=…)` runs inside the import's transaction, after its lines are in:
it reads that batch's lines (a block-range index finds them), and adds them to every table of the
read model at a cost that follows the batch, not the history: day rows are upserted, the
transactions the batch touches are taken out and put back merged (a new transaction is simply
put in; an invoice split across two files gets its parts summed), the per-day-and-category
transaction counts move by the difference, and each touched customer's summary is made, appended
to (the usual daily file: transactions after the customer's last day) or, for anything else,
made again from that customer's transactions; the cohort cells move by the difference between those
customers' cells before and after. `warehouse_batch_remove` does the same with the sign
reversed, before the batch's lines are deleted. Both bump the data version (every cached answer
is then stale) in the same transaction, so no reader ever sees half a change, and compute the
unfiltered answers of the new version before it commits.

`warehouse_rebuild()` empties the tables and runs the same statements over every line: the repair
path (`manage.py warehouse_rebuild`), and what the tests compare the increments with.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from analytics.models import ImportBatch
from analytics.warehouse import cohort_cells, statements
from analytics.warehouse.customer_types import customer_type_list
from analytics.warehouse.discounts import discount_impact_get
from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.sales import overview_get, payment_method_list, store_performance_list
from analytics.warehouse.seasonality import seasonality_get
from analytics.warehouse.version import data_version_bump

# Everything the read model holds; a rebuild empties them all.
TABLES = (
    "analytics_salesdaily",
    "analytics_salestransaction",
    "analytics_categorytransactionsdaily",
    "analytics_customersummary",
    "analytics_cohortcell",
)


@dataclass(frozen=True)
class WarehouseChange:
    """What one change did to the read model: the new data version, the days the lines it added or
    took away span (None without lines) and seconds per step."""

    data_version: int
    parts: int
    first_date: datetime.date | None
    last_date: datetime.date | None
    timings: dict[str, float]


@transaction.atomic
def warehouse_batch_add(*, batch_id: int) -> WarehouseChange:
    """Add one batch's lines (already in the lines table) to the read model, record the days they
    span on the batch (what the data covers: see coverage.py); bump the data version."""
    return _change(where="WHERE batch_id = %(batch)s", params={"batch": batch_id, "sign": 1})


@transaction.atomic
def warehouse_batch_remove(*, batch_id: int) -> WarehouseChange:
    """Take one batch's lines (still in the lines table) out of the read model; bump the data version.
    The caller marks the batch deleted first, so that the days it covered no longer count."""
    return _change(where="WHERE batch_id = %(batch)s", params={"batch": batch_id, "sign": -1})


@transaction.atomic
def warehouse_rebuild() -> WarehouseChange:
    """Empty the read model and build it again from every line; bump the data version."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}")
        cursor.execute(statements.BATCH_SPANS_REBUILD)
    return _change(where="", params={"sign": 1})


def _change(*, where: str, params: dict[str, Any]) -> WarehouseChange:
    timings: dict[str, float] = {}
    removing = params["sign"] < 0
    work_tables = ", ".join(statements.WORK_TABLES)
    with connection.cursor() as cursor:
        mark = time.perf_counter()
        # On a Citus cluster the settings of this transaction go to the workers too, where the
        # statements on the distributed tables are planned (a plain server keeps the setting unused).
        cursor.execute("SET LOCAL citus.propagate_set_commands = 'local'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"TRUNCATE {work_tables}")
        parts_select = statements.PARTS_SELECT.format(where=where)
        cursor.execute(f"INSERT INTO analytics_wh_parts ({statements.PARTS_COLUMNS}) {parts_select}", params)
        parts = cursor.rowcount
        cursor.execute(statements.PARTS_ANALYZE)
        cursor.execute("SELECT min(date), max(date) FROM analytics_wh_parts")
        first_date, last_date = cursor.fetchone()
        if "batch" in params and not removing:
            # The days the data covers grow by the batch's (coverage.py), before any answer is computed:
            # its new lines' and those it delivered again (claims, see LineClaim).
            with _key_probes(cursor):
                cursor.execute(statements.CLAIMED_SPAN, params)
                claimed_first, claimed_last = cursor.fetchone()
            first_date = min((day for day in (first_date, claimed_first) if day), default=None)
            last_date = max((day for day in (last_date, claimed_last) if day), default=None)
            ImportBatch.objects.filter(pk=params["batch"]).update(first_date=first_date, last_date=last_date)
        timings["parts"] = _since(mark)

        mark = time.perf_counter()
        _insert(cursor, "analytics_salesdaily", statements.DAILY_ADD)
        if removing:
            with _key_probes(cursor):
                cursor.execute(statements.DAILY_EMPTY_DELETE)
        timings["daily"] = _since(mark)

        mark = time.perf_counter()
        if _has_rows(cursor, "analytics_salestransaction"):
            with _key_probes(cursor):
                cursor.execute(statements.TRANSACTIONS_TAKE)
            cursor.execute(statements.OLD_ANALYZE)
            cursor.execute(statements.TRANSACTIONS_MERGE)
        cursor.execute(statements.TRANSACTIONS_BROUGHT)
        _insert(cursor, "analytics_salestransaction", statements.TRANSACTIONS_PUT)
        cursor.execute(statements.NEW_ANALYZE)
        timings["transactions"] = _since(mark)

        mark = time.perf_counter()
        _insert(cursor, "analytics_categorytransactionsdaily", statements.CATEGORY_TRANSACTIONS_ADD)
        if removing:
            cursor.execute(statements.CATEGORY_TRANSACTIONS_EMPTY_DELETE)
        timings["category_transactions"] = _since(mark)

        mark = time.perf_counter()
        with _key_probes(cursor):
            cursor.execute(statements.CUSTOMERS_FIND, params)
        cursor.execute(statements.CUSTOMERS_WITH_CHANGED_TRANSACTIONS)
        cursor.execute("ANALYZE analytics_wh_customers")
        cursor.execute("SELECT how, count(*) FROM analytics_wh_customers GROUP BY how")
        ways = dict(cursor.fetchall())
        timings["customers"] = _since(mark)
        mark = time.perf_counter()
        # The cohort cells of the customers whose summaries change, as they were.
        cells_before = None
        if ways.get("recompute") or ways.get("append"):
            cells_before = cohort_cells.cells_of(touched=("recompute", "append"))
        timings["cohorts"] = _since(mark)
        mark = time.perf_counter()
        # A way no customer takes is skipped: with none to recompute (every customer of a first import
        # is new), the planner's one-row guess for the recompute's semi-join could scan the customers
        # once per transaction (a first import of a million lines spent minutes there).
        if ways.get("recompute"):
            with _key_probes(cursor):
                cursor.execute(statements.CUSTOMERS_RECOMPUTE_DELETE)
                cursor.execute(statements.CUSTOMERS_RECOMPUTE_READ)
            cursor.execute(statements.CUSTOMERS_RECOMPUTE)
        if ways.get("append"):
            cursor.execute(statements.CUSTOMERS_APPENDED)
            with _key_probes(cursor):
                cursor.execute(statements.CUSTOMERS_APPEND)
        if ways.get("new"):
            _insert(cursor, "analytics_customersummary", statements.CUSTOMERS_NEW)
        timings["customers"] += _since(mark)

        mark = time.perf_counter()
        if ways:
            # ... and as they are now: the table moves by the difference.
            cells_after = cohort_cells.cells_of(touched=("recompute", "append", "new"))
            cohort_cells.cells_write(cursor, taken=cells_before, put=cells_after)
        timings["cohorts"] += _since(mark)

        # Nothing of the change stays behind in the work tables.
        cursor.execute(f"TRUNCATE {work_tables}")
    version = data_version_bump()
    mark = time.perf_counter()
    answers_warm()
    timings["answers"] = _since(mark)
    return WarehouseChange(
        data_version=version, parts=parts, first_date=first_date, last_date=last_date, timings=timings
    )


def answers_warm() -> None:
    """Compute the unfiltered answer of every sales reader for the new data version, in the change's
    own transaction: they become visible with the data, so no request after a commit waits for them."""
    everything = SalesFilter()
    for reader in (
        overview_get,
        store_performance_list,
        seasonality_get,
        discount_impact_get,
        customer_type_list,
        payment_method_list,
    ):
        reader(sales_filter=everything)


def _since(mark: float) -> float:
    return round(time.perf_counter() - mark, 3)


def _insert(cursor: Any, table: str, statement: str) -> None:
    """Run an INSERT into `table`; into an empty one (a first load, a rebuild) without its indexes,
    built after the rows (and without the statement's ON CONFLICT clause: there is nothing to meet)."""
    if _has_rows(cursor, table):
        cursor.execute(statement)
        return
    with _indexes_built_after(cursor, table):
        cursor.execute(statement.split("ON CONFLICT")[0])


def _has_rows(cursor: Any, table: str) -> bool:
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
    return bool(cursor.fetchone()[0])


class _indexes_built_after:
    """Within the block, `table` has no index (its primary key and unique constraints included): rows
    go in without a B-tree insert each; on leaving, every index is built again from its definition,
    with its name, by one sort (in parallel where PostgreSQL may). For an empty table only: what the
    block inserts must not break a constraint, since none is checked until the end."""

    def __init__(self, cursor: Any, table: str) -> None:
        self.cursor = cursor
        self.table = table

    def __enter__(self) -> None:
        self.cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
            [self.table],
        )
        self.constraints = self.cursor.fetchall()
        self.cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index AS i "
            "WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)",
            [self.table],
        )
        self.indexes = self.cursor.fetchall()
        for name, _definition in self.constraints:
            self.cursor.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{name}"')
        for name, _definition in self.indexes:
            self.cursor.execute(f"DROP INDEX {name}")

    def __exit__(self, error_type: type[BaseException] | None, *exc: object) -> None:
        if error_type is not None:
            return  # the transaction rolls back, and the indexes with it
        for _name, definition in self.indexes:
            self.cursor.execute(definition)
        for name, definition in self.constraints:
            self.cursor.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')


class _key_probes:
    """Within the block, join the change's small tables to the big ones by key lookups (an index probe
    per touched row), never by reading a big table whole: what keeps an increment's cost following
    the increment. The planner would otherwise hash a whole table once it holds a few million rows."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def __enter__(self) -> None:
        self.cursor.execute("SET LOCAL enable_hashjoin = off")
        self.cursor.execute("SET LOCAL enable_mergejoin = off")

    def __exit__(self, *exc: object) -> None:
        self.cursor.execute("SET LOCAL enable_hashjoin = on")
        self.cursor.execute("SET LOCAL enable_mergejoin = on")
