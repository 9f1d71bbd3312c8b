"""django-q2 tasks of the segmentation. The importer enqueues `segmentation.tasks.segmentation_refit_task`
after every successful import; the refit API and the admin enqueue it on demand."""

from __future__ import annotations

import datetime

from segmentation.services.refit import segmentation_run_create


def segmentation_refit_task(import_batch_id: int | None = None, k: int | None = None, as_of: str | None = None) -> int:
    """Refit and return the new run's id (the run records a failure itself; see segmentation_run_create)."""
    run = segmentation_run_create(
        k=k,
        as_of=datetime.date.fromisoformat(as_of) if as_of else None,
        import_batch_id=import_batch_id,
    )
    return run.pk
