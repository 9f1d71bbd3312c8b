"""Aggregates rebuilt after every import: what the analytics read instead of the transaction lines.

Two tables, because sums and distinct counts behave differently:

- `SalesDaily` (day x store x category x payment method) carries every money figure, units and
  line counts. Sums add up across rows, so any filter on date, store and category is a plain
  `SUM ... WHERE ... GROUP BY` over a table a few hundred times smaller than the lines. Every write
  leaves its rows in (store, date) order with an index on both, so a date or store filter reads a
  range of it.
- `SalesTransaction` (one row per transaction: invoice number x day x store x customer) carries
  what does not add up: distinct transactions and distinct customers. An invoice can span several
  categories and payment methods, so counting it from day-level rows would count it once per row;
  a customer buys on many days. The row keeps, in aligned arrays, each category x payment-method
  part of the transaction with its net amount and whether it holds a purchase line, so counts stay
  exact under every combination of date, store and category filters, and so does a customer's net
  amount (repeat vs one-time customers).

`rollups_rebuild()` runs inside the import transaction and must stay fast: it brings `SalesDaily`
up to date and bumps the data version. When the import computed the day-level rows of the lines it
added (the columnar path does, while it writes them) and the table reflects every earlier line,
those rows are added to it (a regrouping of a few hundred thousand rows at most); otherwise the
table is rebuilt from every line (TRUNCATE + INSERT ... SELECT ... GROUP BY, about two seconds at
a million lines). A `RollupBuild` row records the data version the table reflects.

The transaction table needs a grouping with about as many groups as lines, several seconds at a
million lines, so it is rebuilt right after the import commits, by a django-q2 task
(`rollups_transactions_rebuild`), which then precomputes the unfiltered answer of every selector
into the answer cache shared by all processes (`SalesAnswer`). Until that task has caught up with
the current data version, the selectors compute the same rows on the fly from the lines (the very
same SELECT, `TRANSACTIONS_SELECT_SQL`), so answers are exact at every moment, only slower in that
window; `transactions_source()` says which one to read. Answers are cached per data version and
filter (`analytics.selectors.sales_rollups.cached`).

Everything is plain SQL (GROUP BY, arrays, unnest): it would run unchanged on a distributed
PostgreSQL. TRUNCATE takes an exclusive lock on the rollup table until the import commits, so a
request that misses the cache during that moment waits for it rather than seeing half a rebuild.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from analytics.models import DAILY_STORE_DATE_INDEX, TRANSACTIONS_STORE_DATE_INDEX, RollupBuild
from retail_platform.locks import data_write_lock

logger = logging.getLogger(__name__)

TRANSACTIONS_ROLLUP = "sales_transactions"
DAILY_ROLLUP = "sales_daily"
# Columns of a SalesDailyIncrement's rows: SalesDaily's.
DAILY_INCREMENT_COLUMNS = (
    "date",
    "store_id",
    "category_id",
    "payment_method_id",
    "gross_sales",
    "discount",
    "net_sales",
    "cost",
    "cost_lines",
    "units",
    "purchase_lines",
    "return_lines",
)


@dataclass(frozen=True)
class SalesDailyIncrement:
    """The day-level rows of the lines one import added, one per day x store x category x payment
    method, in (store, date) order: binary COPY data (signature and trailer included) with the
    columns DAILY_INCREMENT_COLUMNS. `earlier_lines`: whether the lines table held lines before the import."""

    copy_data: bytes
    rows: int
    earlier_lines: bool


# Transactions from the lines. Inner level: one row per transaction x category x payment method;
# outer level: one row per transaction, its parts as aligned arrays (ordered the same way).
TRANSACTIONS_SELECT_SQL = """
SELECT date, store_id, customer_id,
       coalesce(array_agg(DISTINCT category_id) FILTER (WHERE has_purchase), '{}') AS purchase_category_ids,
       array_agg(category_id ORDER BY category_id, payment_method_id) AS part_category_ids,
       array_agg(payment_method_id ORDER BY category_id, payment_method_id) AS part_payment_method_ids,
       array_agg(net_amount ORDER BY category_id, payment_method_id) AS part_net_amounts,
       array_agg(has_purchase ORDER BY category_id, payment_method_id) AS part_has_purchase,
       sum(net_amount) AS net_amount
FROM (
    SELECT invoice_no, date, store_id, customer_id, category_id, payment_method_id,
           sum(net_amount) AS net_amount, bool_or(NOT is_return) AS has_purchase
    FROM analytics_transactionline
    GROUP BY invoice_no, date, store_id, customer_id, category_id, payment_method_id
) AS parts
GROUP BY invoice_no, date, store_id, customer_id
"""

_DAILY_REBUILD_SQL = """
INSERT INTO analytics_salesdaily
    (date, store_id, category_id, payment_method_id, gross_sales, discount, net_sales, cost, cost_lines,
     units, purchase_lines, return_lines)
SELECT date, store_id, category_id, payment_method_id,
       sum(gross_amount), sum(discount_amount), sum(net_amount), sum(cost), count(cost),
       sum(quantity), count(*) FILTER (WHERE NOT is_return), count(*) FILTER (WHERE is_return)
FROM analytics_transactionline
GROUP BY date, store_id, category_id, payment_method_id
ORDER BY store_id, date
"""

_TRANSACTIONS_REBUILD_SQL = f"""
INSERT INTO analytics_salestransaction
    (date, store_id, customer_id, purchase_category_ids, part_category_ids, part_payment_method_ids,
     part_net_amounts, part_has_purchase, net_amount)
{TRANSACTIONS_SELECT_SQL}
"""


# Per day x store x category: the transactions whose purchase categories hold it; per day x store x
# category x payment method: the purchase parts (one per transaction, category and method).
_CATEGORY_TRANSACTIONS_REBUILD_SQL = """
INSERT INTO analytics_categorytransactionsdaily (date, store_id, category_id, payment_method_id, transactions)
SELECT date, store_id, category_id, NULL, count(*)
FROM analytics_salestransaction AS t, unnest(t.purchase_category_ids) AS category_id
GROUP BY date, store_id, category_id
UNION ALL
SELECT date, store_id, part.category_id, part.payment_method_id, count(*)
FROM analytics_salestransaction AS t,
     unnest(t.part_category_ids, t.part_payment_method_ids, t.part_has_purchase)
         AS part(category_id, payment_method_id, has_purchase)
WHERE part.has_purchase
GROUP BY date, store_id, part.category_id, part.payment_method_id
"""


def data_version_get() -> int:
    """The current data version (0 before the first import)."""
    # Read on every API request: plain SQL, no ORM query compilation.
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM analytics_dataversion WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


_DAILY_COLUMNS = ", ".join(DAILY_INCREMENT_COLUMNS)


@transaction.atomic
def rollups_rebuild(*, daily_increment: SalesDailyIncrement | None = None) -> int:
    """Bring the day-level rollup up to date, bump the data version and return it.

    Called inside the import transaction, with the day-level rows of the lines the import added when
    it has them. After commit, a django-q2 task rebuilds the transaction rollup; the selectors read
    the lines meanwhile (see the module docstring).
    """
    with connection.cursor() as cursor:
        # Every write leaves the rows in (store, date) order and builds their index after them in
        # one pass (cheaper than keeping it up to date row by row): a date or store filter then
        # reads a few contiguous pages instead of the whole table.
        cursor.execute(f"DROP INDEX IF EXISTS {DAILY_STORE_DATE_INDEX}")
        if daily_increment is not None and _daily_reflects_earlier_lines(daily_increment):
            _daily_add(cursor, daily_increment)
        else:
            cursor.execute("TRUNCATE analytics_salesdaily")
            cursor.execute(_DAILY_REBUILD_SQL)
        cursor.execute(f"CREATE INDEX {DAILY_STORE_DATE_INDEX} ON analytics_salesdaily (store_id, date)")
        # Answers of older versions are never read again. DELETE, not TRUNCATE: readers are not blocked.
        cursor.execute("DELETE FROM analytics_salesanswer")
        cursor.execute(
            "INSERT INTO analytics_dataversion (id, version, updated_at) VALUES (1, 1, now()) "
            "ON CONFLICT (id) DO UPDATE SET version = analytics_dataversion.version + 1, updated_at = now() "
            "RETURNING version"
        )
        version = cursor.fetchone()[0]
    RollupBuild.objects.update_or_create(name=DAILY_ROLLUP, defaults={"data_version": version})
    transaction.on_commit(_transactions_rebuild_enqueue)
    return version


def _daily_reflects_earlier_lines(increment: SalesDailyIncrement) -> bool:
    """Whether the day-level rollup holds every line but the increment's: it was last brought up to
    date for the current data version, or there were no lines before the import."""
    if not increment.earlier_lines:
        return True
    built = RollupBuild.objects.filter(name=DAILY_ROLLUP).values_list("data_version", flat=True).first()
    return built is not None and built == data_version_get()


def _daily_add(cursor: Any, increment: SalesDailyIncrement) -> None:
    cursor.execute("SELECT EXISTS (SELECT 1 FROM analytics_salesdaily)")
    if not cursor.fetchone()[0]:
        if increment.rows:
            with cursor.copy(f"COPY analytics_salesdaily ({_DAILY_COLUMNS}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(increment.copy_data)
        return
    cursor.execute(
        f"CREATE TEMP TABLE imp_daily ON COMMIT DROP AS SELECT {_DAILY_COLUMNS} FROM analytics_salesdaily WITH NO DATA"
    )
    if increment.rows:
        with cursor.copy(f"COPY imp_daily ({_DAILY_COLUMNS}) FROM STDIN (FORMAT binary)") as copy:
            copy.write(increment.copy_data)
    # The table's rows and the new ones, regrouped: sums add up (cost stays NULL where no line has one).
    cursor.execute(f"INSERT INTO imp_daily SELECT {_DAILY_COLUMNS} FROM analytics_salesdaily")
    cursor.execute("TRUNCATE analytics_salesdaily")
    cursor.execute(
        f"INSERT INTO analytics_salesdaily ({_DAILY_COLUMNS}) "
        "SELECT date, store_id, category_id, payment_method_id, sum(gross_sales), sum(discount), sum(net_sales), "
        "sum(cost), sum(cost_lines), sum(units), sum(purchase_lines), sum(return_lines) "
        "FROM imp_daily GROUP BY 1, 2, 3, 4 ORDER BY store_id, date"
    )
    cursor.execute("DROP TABLE imp_daily")


def _transactions_rebuild_enqueue() -> None:
    from django_q.tasks import async_task

    try:
        async_task("analytics.services.rollups.rollups_transactions_rebuild", task_name="rollups_transactions")
    except Exception:
        # The answers stay exact without the table (read from the lines), only slower: never fail
        # an import that has already committed because the queue is unreachable.
        logger.exception("Could not queue the transaction rollup rebuild")


def transactions_rollup_is_current(*, data_version: int) -> bool:
    built = RollupBuild.objects.filter(name=TRANSACTIONS_ROLLUP).values_list("data_version", flat=True).first()
    return built == data_version


def transactions_source(*, data_version: int) -> str:
    """The FROM item the selectors read transactions from: the table when it is current, else the lines."""
    if transactions_rollup_is_current(data_version=data_version):
        return "analytics_salestransaction"
    return f"({TRANSACTIONS_SELECT_SQL})"


@transaction.atomic
def rollups_transactions_rebuild() -> int:
    """Rebuild the transaction rollup for the current data version (a no-op when it is current).

    Holds the data-write lock, so no import runs meanwhile and the rows match the version recorded.
    Returns the data version the table now reflects.
    """
    data_write_lock()
    version = data_version_get()
    if transactions_rollup_is_current(data_version=version):
        return version
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE analytics_salestransaction")
        # Rows in (store, date) order, their index built after them in one pass, fresh statistics:
        # a date or store filter then reads a few contiguous pages instead of the whole table.
        cursor.execute(f"DROP INDEX IF EXISTS {TRANSACTIONS_STORE_DATE_INDEX}")
        cursor.execute(f"{_TRANSACTIONS_REBUILD_SQL} ORDER BY store_id, date")
        cursor.execute(f"CREATE INDEX {TRANSACTIONS_STORE_DATE_INDEX} ON analytics_salestransaction (store_id, date)")
        cursor.execute("ANALYZE analytics_salestransaction")
        cursor.execute("TRUNCATE analytics_categorytransactionsdaily")
        cursor.execute(_CATEGORY_TRANSACTIONS_REBUILD_SQL)
    RollupBuild.objects.update_or_create(
        name=TRANSACTIONS_ROLLUP,
        defaults={"data_version": version, "seconds": round(time.monotonic() - started, 3)},
    )
    sales_answers_warm()
    return version


def sales_answers_warm() -> None:
    """Compute the unfiltered answer of every sales selector into the shared cache (SalesAnswer)."""
    from analytics.selectors.customers import customer_type_list
    from analytics.selectors.discounts import discount_impact_get
    from analytics.selectors.filters import SalesFilter
    from analytics.selectors.sales import overview_get, payment_method_list, store_performance_list
    from analytics.selectors.seasonality import seasonality_get

    everything = SalesFilter()
    for selector in (
        overview_get,
        store_performance_list,
        seasonality_get,
        discount_impact_get,
        customer_type_list,
        payment_method_list,
    ):
        selector(sales_filter=everything)
