"""django-q2 tasks of the analytics app. Each takes primitive ids and calls one service."""

from __future__ import annotations

from typing import Any

# The worker loads the columnar import path's libraries (Arrow, numpy) with its tasks rather than in
# the middle of its first import; web processes never import this module.
import analytics.services.import_csv.columnar  # noqa: F401
from analytics.services.import_batches import import_batch_run
from analytics.services.import_inbox import import_inbox_scan
from analytics.services.import_sweep import import_batches_sweep


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


def import_inbox_scan_task() -> list[dict[str, Any]]:
    """Scheduled every minute: import each new file in IMPORT_INBOX_DIR once (see import_inbox)."""
    return [
        {"file": result.file_name, "batch_id": result.batch_id, "status": result.status}
        for result in import_inbox_scan()
    ]


def import_batches_sweep_task() -> dict[str, list[int]]:
    """Scheduled every few minutes: fail the batches no worker will finish (see import_sweep)."""
    result = import_batches_sweep()
    return {"stuck": result.stuck, "too_many_attempts": result.too_many_attempts}
