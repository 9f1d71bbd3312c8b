"""The platform on a Citus cluster (distributed PostgreSQL): where each table lives, and laying them out.

`DATABASE_URL` points at the coordinator, the only server the application talks to (its advisory
lock, `locks.py`, lives there). The schema is the same on one server and on a cluster: the keys
Citus needs (the distribution column in every primary and unique key of a distributed table) are
in the migrations. `tables_distribute()` (run by `manage.py distribute_tables`, and by `migrate`
on a coordinator) then places each table as `LAYOUT` says; on a server without Citus it does
nothing.

Three kinds of place:

- distributed by customer, every such table co-located with the lines (the same customer's rows
  of every table on the same worker): what grows with lines and customers. Every per-customer
  statement (an import's increment to the read model, a customer's summary made again from their
  transactions, a deleted import's lines handed to the batch that also delivered them) joins these
  tables on the customer and runs on each worker, on its shards, in parallel;
- reference tables (a copy on every node): the small dimensions every statement joins;
- the coordinator (plain PostgreSQL tables, where Citus leaves a table it is not told about): the
  small rollups the pages read, and the application's own tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction

from retail_platform.locks import data_write_lock

DISTRIBUTION_COLUMN = "customer_id"
# The first distributed table; every other one is co-located with it.
COLOCATION_ANCHOR = "analytics_transactionline"

Kind = Literal["distributed", "reference", "coordinator"]


@dataclass(frozen=True)
class Placement:
    table: str
    kind: Kind
    reason: str


_APP = "the application's own rows: few, written and read by key on one server"

LAYOUT: tuple[Placement, ...] = (
    # Reference tables come first: the distributed tables' statements join them.
    Placement("analytics_store", "reference", "a few hundred rows joined by every sales statement"),
    Placement("analytics_category", "reference", "a few hundred rows joined by every sales statement"),
    Placement("analytics_paymentmethod", "reference", "a handful of rows joined by every sales statement"),
    Placement(
        "analytics_customer",
        "reference",
        "the import finds a file's customer by its external id, unique across the table: a distributed "
        "table can only enforce a key holding its distribution column, and the lines are distributed by "
        "the customer's id. A customer is a short row written once; a copy on each worker joins the "
        "lines and summaries there",
    ),
    Placement(
        COLOCATION_ANCHOR,
        "distributed",
        "grows with every line imported: COPY spreads an import over the workers, each worker finds a "
        "batch's lines in its shards and adds them up per customer",
    ),
    Placement(
        "analytics_lineclaim",
        "distributed",
        "a claim sits beside the line it claims, so handing lines over when an import is deleted is a "
        "join on each worker",
    ),
    Placement(
        "analytics_salestransaction",
        "distributed",
        "one row per transaction, grows with the lines: an increment merges a customer's transactions "
        "with their new lines on the worker holding both, and distinct customers are counted per shard",
    ),
    Placement(
        "analytics_customersummary",
        "distributed",
        "one row per customer, made again from that customer's transactions on the same worker; the "
        "refit, customer value and cohorts read every row",
    ),
    *(
        Placement(
            table,
            "distributed",
            "the read model's work table of a change (its increment per customer): beside the rows it "
            "changes, so every statement of the change runs on the workers",
        )
        for table in (
            "analytics_wh_parts",
            "analytics_wh_old",
            "analytics_wh_new",
            "analytics_wh_customers",
            "analytics_wh_appended",
            "analytics_wh_recompute",
        )
    ),
    Placement(
        "analytics_salesdaily",
        "coordinator",
        "money per store x day x category x payment method: grows with stores and days, not with lines "
        "or customers; every page reads it, and one server answers in milliseconds without a round trip "
        "to the workers",
    ),
    Placement(
        "analytics_categorytransactionsdaily",
        "coordinator",
        "transactions per category x store x day: small like the day rollup, read the same way",
    ),
    Placement(
        "analytics_cohortcell",
        "coordinator",
        "customers per first-purchase period x store x period, for weeks, months and quarters: grows with "
        "stores and periods, not with customers; each change writes the difference its touched "
        "customers make, and the cohorts page reads it whole",
    ),
    Placement("analytics_dataversion", "coordinator", "one row, bumped in every change's transaction"),
    Placement("analytics_salesanswer", "coordinator", "the shared answer cache: read and written by key"),
    Placement("analytics_importbatch", "coordinator", _APP),
    Placement("analytics_columnmapping", "coordinator", _APP),
    Placement("segmentation_segmentationrun", "coordinator", _APP),
    Placement("segmentation_segmentcell", "coordinator", "the refit's per-segment summaries: a few rows per run"),
    Placement(
        "segmentation_customersegment",
        "coordinator",
        "the refit's output, written with one COPY by the process that computed it and read a page at a "
        "time by run and segment: no statement joins it with the distributed tables",
    ),
    Placement(
        "segmentation_customervalue",
        "coordinator",
        "like the assignments: the refit's per-customer values, written once, read by run",
    ),
    Placement("segmentation_customervaluemodel", "coordinator", _APP),
    Placement("campaigns_scenario", "coordinator", _APP),
    Placement("campaigns_targetexport", "coordinator", _APP),
)


@dataclass(frozen=True)
class TableLaidOut:
    """What `tables_distribute` did with one table: `done` is "made", "already" or "missing"."""

    table: str
    kind: Kind
    done: str
    rows_moved: int


def citus_version() -> str | None:
    """The Citus extension's version in this database, None without it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        row = cursor.fetchone()
    return row[0] if row else None


def placements_now() -> dict[str, Kind]:
    """How the tables are placed now: "distributed" or "reference" for each table Citus spreads."""
    if citus_version() is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT logicalrelid::regclass::text, CASE WHEN partmethod = 'h' THEN 'distributed' ELSE 'reference' END "
            "FROM pg_dist_partition WHERE partmethod = 'h' OR repmodel = 't'"
        )
        return dict(cursor.fetchall())


def citus_layout_active() -> bool:
    """Whether the lines are distributed: this database lives on a Citus cluster."""
    return placements_now().get(COLOCATION_ANCHOR) == "distributed"


def _spread(cursor: Any, table: str, *, reference: bool) -> bool:
    """Whether Citus keeps the table's rows in shards: distributed, or (with `reference`) a reference
    table. False on a server without Citus (whose catalog has no pg_dist_partition to ask)."""
    cursor.execute("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = %s::regclass "
        "AND (partmethod = 'h' OR (%s AND repmodel = 't')))",
        [table, reference],
    )
    return bool(cursor.fetchone()[0])


def relation_size(cursor: Any, table: str) -> int:
    """The bytes of a table's rows: of all its shards on a Citus cluster (the coordinator's own table
    of a distributed one is empty). Asked of each shard, as committed: Citus's size functions refuse
    to run in a transaction that has written to several shards, as an import has by then."""
    if _spread(cursor, table, reference=False):
        cursor.execute(
            "SELECT coalesce(sum(result::bigint), 0) FROM run_command_on_shards(%s, "
            "$$SELECT pg_relation_size('%%s')$$) WHERE success",
            [table],
        )
    else:
        cursor.execute("SELECT pg_relation_size(%s)", [table])
    return int(cursor.fetchone()[0])


def estimated_rows(cursor: Any, table: str) -> int:
    """PostgreSQL's estimate of a table's rows from its statistics (0 when it has none): summed over
    the shards on a Citus cluster, whose coordinator keeps an empty table in place of a distributed
    or reference one."""
    if _spread(cursor, table, reference=True):
        cursor.execute(
            "SELECT coalesce(sum(greatest(result::bigint, 0)), 0) FROM run_command_on_shards(%s, "
            "$$SELECT reltuples::bigint FROM pg_class WHERE oid = '%%s'::regclass$$) WHERE success",
            [table],
        )
    else:
        cursor.execute("SELECT greatest(reltuples::bigint, 0) FROM pg_class WHERE oid = %s::regclass", [table])
    row = cursor.fetchone()
    return int(row[0]) if row else 0


@transaction.atomic
def tables_distribute() -> list[TableLaidOut]:
    """Place every table of `LAYOUT` as it says, on a Citus coordinator; idempotent (a table already in
    its place is left alone). Nothing on a server without Citus (an empty list).

    A table that holds rows has them copied to its shards (or to every node) and its local copy
    emptied. Under the data-write lock, so no import, deletion or refit runs meanwhile; Citus locks
    each table it places against writes until the commit, and emptying a local copy locks that table
    against reads too: pages and the API asking for it wait for the commit."""
    if citus_version() is None:
        return []
    data_write_lock()
    now = placements_now()
    done: list[TableLaidOut] = []
    with connection.cursor() as cursor:
        for placement in LAYOUT:
            table, kind = placement.table, placement.kind
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if not cursor.fetchone()[0]:
                done.append(TableLaidOut(table, kind, "missing", 0))
                continue
            if kind == "coordinator" or now.get(table) == kind:
                done.append(TableLaidOut(table, kind, "already", 0))
                continue
            cursor.execute(f"SELECT count(*) FROM {table}")
            (rows,) = cursor.fetchone()
            if kind == "reference":
                cursor.execute("SELECT create_reference_table(%s)", [table])
            else:
                colocate = "none" if table == COLOCATION_ANCHOR else COLOCATION_ANCHOR
                cursor.execute(
                    "SELECT create_distributed_table(%s, %s, colocate_with => %s)",
                    [table, DISTRIBUTION_COLUMN, colocate],
                )
            if rows:
                # Citus copied the rows to the shards; the coordinator's own copy is left behind unread.
                cursor.execute("SELECT truncate_local_data_after_distributing_table(%s)", [table])
            done.append(TableLaidOut(table, kind, "made", rows))
    return done
