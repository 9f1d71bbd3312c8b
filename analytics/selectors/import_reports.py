"""Reads for the import interfaces (admin, API): batches and their per-row error reports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from analytics.models import ImportBatch
from retail_platform.errors import ApplicationError

ERROR_REPORT_COLUMNS = ("row", "column", "value", "reason")


def import_batch_list() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("uploaded_by").order_by("-created_at", "-id")


def import_batch_get(*, batch_id: int) -> ImportBatch:
    batch = import_batch_list().filter(pk=batch_id).first()
    if batch is None:
        raise ApplicationError(f"Import batch {batch_id} does not exist.", {"batch_id": batch_id}, status=404)
    return batch


def import_batch_error_rows(batch: ImportBatch) -> Iterator[list[Any]]:
    """The kept per-row errors (the first 1,000) as rows of ERROR_REPORT_COLUMNS."""
    for error in batch.errors or []:
        if isinstance(error, dict):
            yield [error.get(column, "") for column in ERROR_REPORT_COLUMNS]
        else:  # a plain message (a file-level problem)
            yield ["", "", "", str(error)]


def import_batch_errors_file_name(batch: ImportBatch) -> str:
    return f"import-{batch.pk}-errors.csv"


def import_batch_progress(batch: ImportBatch) -> int:
    """Percent done: 100 once the batch succeeded; otherwise how far its last stage got."""
    if batch.status == ImportBatch.Status.SUCCEEDED:
        return 100
    return max(0, min(100, int(batch.progress or 0)))
