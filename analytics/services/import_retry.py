"""Retrying a failed import: the batch goes back on the queue as it was uploaded, with a clean slate."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from analytics.models import ImportBatch
from retail_platform.errors import ApplicationError

IMPORT_TASK = "analytics.tasks.import_batch_run_task"


def import_batch_enqueue(*, batch_id: int) -> None:
    """Queue the import task once the current transaction commits (so the worker finds the batch)."""
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(IMPORT_TASK, batch_id, task_name=f"import-batch-{batch_id}", group="imports")
    )


@transaction.atomic
def import_batch_retry(*, batch_id: int) -> ImportBatch:
    """Put a failed batch back on the queue: status queued, attempts 0, the last run's outcome cleared.

    Only a failed batch can be retried: a succeeded one is done (importing it again would only count
    duplicates) and a queued or running one is still on its way.
    """
    batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        raise ApplicationError(f"Import batch {batch_id} does not exist.", {"batch_id": batch_id}, status=404)
    if batch.status != ImportBatch.Status.FAILED:
        raise ApplicationError(
            f"Only a failed import can be retried; batch {batch_id} is {batch.status}.",
            {"batch_id": batch_id, "status": batch.status},
            status=409,
        )
    if not batch.file or not batch.file.storage.exists(batch.file.name):
        raise ApplicationError(
            f"The file of batch {batch_id} ({batch.file_name}) is no longer stored; upload it again.",
            {"batch_id": batch_id},
            status=409,
        )

    batch.status = ImportBatch.Status.QUEUED
    batch.attempts = 0
    batch.stage = ""
    batch.progress = 0
    batch.rows_read = batch.imported = batch.rejected = batch.duplicates = 0
    batch.errors = []
    batch.error_count = 0
    batch.warnings = []
    batch.timings = {}
    batch.message = "Queued again for a retry."
    batch.queued_at = timezone.now()
    batch.started_at = None
    batch.finished_at = None
    batch.save()
    import_batch_enqueue(batch_id=batch.id)
    return batch
