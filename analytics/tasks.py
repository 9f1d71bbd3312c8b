"""django-q2 tasks of the analytics app. Each takes primitive ids and calls one service."""

from __future__ import annotations

from typing import Any

from analytics.services.import_batches import import_batch_run


def import_batch_run_task(batch_id: int) -> dict[str, Any]:
    """Run a queued import (a no-op when the batch already ended) and return its outcome."""
    batch = import_batch_run(batch_id=batch_id)
    return {
        "batch_id": batch.id,
        "status": batch.status,
        "rows_read": batch.rows_read,
        "imported": batch.imported,
        "rejected": batch.rejected,
        "duplicates": batch.duplicates,
    }
