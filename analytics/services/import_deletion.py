"""Taking an import back: a staff member deletes a batch, and everything is as if it had never been
imported, in one transaction under the data-write lock.

The rule for lines another batch also delivered: a line belongs to the first batch that delivered it,
and every later batch that delivered it again (a duplicate it skipped) holds a claim on it (LineClaim).
Deleting a batch deletes its lines except those a remaining batch claims: each of those is handed to
the earliest such batch, so nothing a remaining file holds is lost. The batch's own claims on other
batches' lines simply go.

Then the read model takes the deleted lines out (analytics.warehouse), customers, stores, categories
and payment methods left with no line go, the batch stays as the record (`deleted`, who, when and what
went), and the segmentation is refitted after commit, as after an import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from analytics.models import Category, Customer, ImportBatch, PaymentMethod, Store
from analytics.services.import_batches import refit_enqueue
from analytics.warehouse import warehouse_batch_remove
from retail_platform.errors import ApplicationError
from retail_platform.locks import data_write_lock


@dataclass(frozen=True)
class ImportDeletion:
    """What deleting a batch takes away (the preview) or took away (the record)."""

    batch_id: int
    file_name: str
    lines: int  # lines deleted
    lines_kept: int  # lines a remaining batch also delivered: kept, handed to it
    net_sales: str  # of the lines deleted (decimal string)
    customers: int  # customers left with no line: deleted
    stores: dict[str, int]  # lines deleted per store
    dimensions: dict[str, list[str]]  # stores, categories, payment methods left with no line: deleted


# A line and its claims share their key and customer (on a Citus cluster: their worker).
_KEPT_SQL = """
SELECT l.row_key, l.customer_id, min(c.batch_id) AS to_batch
FROM analytics_transactionline AS l
JOIN analytics_lineclaim AS c ON c.row_key = l.row_key AND c.customer_id = l.customer_id
JOIN analytics_importbatch AS b ON b.id = c.batch_id AND b.status <> 'deleted'
WHERE l.batch_id = %s AND c.batch_id <> %s
GROUP BY l.row_key, l.customer_id
"""


def _batch(batch_id: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise ApplicationError(f"Import batch {batch_id} does not exist.", {"batch_id": batch_id}, status=404)
    if batch.status != ImportBatch.Status.SUCCEEDED:
        raise ApplicationError(
            f"Import batch {batch_id} is {batch.status}: only a succeeded import can be deleted.",
            {"batch_id": batch_id, "status": batch.status},
            status=409,
        )
    return batch


def _lines_summary(cursor: Any, batch_id: int) -> tuple[int, int, str, dict[str, int]]:
    """(lines that go, lines kept, their net, lines per store) of the batch, kept lines excluded."""
    cursor.execute(
        f"SELECT s.name, count(*), sum(l.net_amount) FROM analytics_transactionline AS l "
        f"JOIN analytics_store AS s ON s.id = l.store_id WHERE l.batch_id = %s "
        f"AND l.row_key NOT IN (SELECT row_key FROM ({_KEPT_SQL}) AS kept) GROUP BY s.name ORDER BY s.name",
        [batch_id, batch_id, batch_id],
    )
    rows = cursor.fetchall()
    cursor.execute(f"SELECT count(*) FROM ({_KEPT_SQL}) AS kept", [batch_id, batch_id])
    kept = cursor.fetchone()[0]
    net = sum((row[2] for row in rows), start=0)
    return sum(row[1] for row in rows), kept, f"{net:.2f}", {name: count for name, count, _ in rows}


def import_batch_deletion_preview(*, batch_id: int) -> ImportDeletion:
    """What deleting the batch would take away (nothing is changed). Customers and dimensions left with
    no line are counted as they would be after the deletion."""
    with transaction.atomic():
        data_write_lock()
        batch = _batch(batch_id)
        sid = transaction.savepoint()
        try:
            return _delete(batch, user=None, record=False)
        finally:
            transaction.savepoint_rollback(sid)


@transaction.atomic
def import_batch_delete(*, batch_id: int, user: Any = None, queue_refit: bool = True) -> ImportDeletion:
    """Delete a succeeded import batch (see the module docstring); returns what went."""
    data_write_lock()
    batch = _batch(batch_id)  # read under the lock: no other import or deletion runs meanwhile
    deletion = _delete(batch, user=user, record=True)
    if queue_refit:
        transaction.on_commit(lambda: refit_enqueue(batch_id=batch.pk, after="deletion"))
    return deletion


def _delete(batch: ImportBatch, *, user: Any, record: bool) -> ImportDeletion:
    with connection.cursor() as cursor:
        lines, kept, net, stores = _lines_summary(cursor, batch.pk)
        dimension_ids = _dimension_ids(cursor, batch.pk)
        # The lines a remaining batch claims move to the earliest such batch, which no longer claims them.
        cursor.execute(f"CREATE TEMP TABLE del_kept ON COMMIT DROP AS {_KEPT_SQL}", [batch.pk, batch.pk])
        cursor.execute(
            "UPDATE analytics_transactionline AS l SET batch_id = k.to_batch FROM del_kept AS k "
            "WHERE l.row_key = k.row_key AND l.customer_id = k.customer_id"
        )
        cursor.execute(
            "DELETE FROM analytics_lineclaim AS c USING del_kept AS k WHERE c.row_key = k.row_key "
            "AND c.customer_id = k.customer_id AND c.batch_id = k.to_batch"
        )
        cursor.execute("DROP TABLE del_kept")
        cursor.execute("DELETE FROM analytics_lineclaim WHERE batch_id = %s", [batch.pk])
        # The batch stops counting among the days the data covers before the read model takes its lines out.
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.DELETED, first_date=None, last_date=None
        )
        warehouse_batch_remove(batch_id=batch.pk)
        cursor.execute("DELETE FROM analytics_transactionline WHERE batch_id = %s", [batch.pk])
        customers, dimensions = _orphans_delete(cursor, dimension_ids)
    deletion = ImportDeletion(
        batch_id=batch.pk,
        file_name=batch.file_name,
        lines=lines,
        lines_kept=kept,
        net_sales=net,
        customers=customers,
        stores=stores,
        dimensions=dimensions,
    )
    if record:
        ImportBatch.objects.filter(pk=batch.pk).update(
            deleted_at=timezone.now(),
            deleted_by=user if getattr(user, "pk", None) else None,
            deletion=asdict(deletion),
            message=f"{batch.message} Deleted: {lines:,} lines went, {kept:,} kept (another import holds them).",
        )
    return deletion


def _dimension_ids(cursor: Any, batch_id: int) -> dict[str, list[int]]:
    """The customers, stores, categories and payment methods the batch's lines use."""
    found = {}
    for column in ("customer_id", "store_id", "category_id", "payment_method_id"):
        cursor.execute(f"SELECT DISTINCT {column} FROM analytics_transactionline WHERE batch_id = %s", [batch_id])
        found[column] = [row[0] for row in cursor.fetchall()]
    return found


def _orphans_delete(cursor: Any, ids: dict[str, list[int]]) -> tuple[int, dict[str, list[str]]]:
    """Delete the customers, stores, categories and payment methods of the batch that no line uses any
    more (the read model's tables tell, without reading the lines); return how many customers went and
    the names of the other dimensions that did."""
    # The batch's customers minus those with a summary left (read by key; on a Citus cluster, on the
    # shards holding those customers).
    cursor.execute(
        "SELECT id FROM unnest(%s::bigint[]) AS id EXCEPT "
        "SELECT customer_id FROM analytics_customersummary WHERE customer_id = ANY(%s::bigint[])",
        [ids["customer_id"], ids["customer_id"]],
    )
    customers = [row[0] for row in cursor.fetchall()]
    names: dict[str, list[str]] = {}
    for model, column in ((Store, "store_id"), (Category, "category_id"), (PaymentMethod, "payment_method_id")):
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id WHERE NOT EXISTS "
            f"(SELECT 1 FROM analytics_salesdaily WHERE {column} = id)",
            [ids[column]],
        )
        gone = [row[0] for row in cursor.fetchall()]
        names[str(model._meta.verbose_name_plural)] = sorted(
            model.objects.filter(pk__in=gone).values_list("name", flat=True)
        )
        model.objects.filter(pk__in=gone).delete()
    # Customers go with their assignments and predicted values in earlier segmentation runs (cascade).
    Customer.objects.filter(pk__in=customers).delete()
    return len(customers), names
