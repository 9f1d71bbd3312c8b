"""The scheduled sweep that ends import batches no worker will finish.

django-q2 stores no result for a worker killed by SIGKILL or the OOM killer, so its task comes back
until the broker gives up, and the batch can stay "running" for ever (django-q2 #327, #262). The
sweep fails a batch that has been queued or running for longer than a task can live
(Q_CLUSTER timeout + retry: past that the worker's timeout has killed it, and the broker has handed
the task out again), and a batch whose attempts went past IMPORT_MAX_ATTEMPTS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.models import ImportBatch

STUCK_MESSAGE = "The worker stopped during the import; retry it."
TOO_MANY_ATTEMPTS_MESSAGE = (
    "The import was attempted {attempts} times without finishing (the limit is {limit}); retry it."
)

UNFINISHED = (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)


@dataclass(frozen=True)
class SweepResult:
    stuck: list[int]
    too_many_attempts: list[int]

    @property
    def failed(self) -> list[int]:
        return sorted(self.stuck + self.too_many_attempts)


def import_stuck_after() -> timedelta:
    """How long a batch may stay queued or running before the sweep calls it stuck."""
    q_cluster = settings.Q_CLUSTER
    return timedelta(seconds=int(q_cluster["timeout"]) + int(q_cluster["retry"]))


@transaction.atomic
def import_batches_sweep(*, now: datetime | None = None) -> SweepResult:
    """Mark unfinished batches that no worker will finish as failed, with the reason; return their ids.

    A running batch's clock starts when a worker last started it; a queued one's when it was last
    queued (created or retried), so a retried old batch gets its full time again. Rows are
    locked with SKIP LOCKED so a sweep never waits on (or races) a worker updating the same batch.
    """
    now = now or timezone.now()
    cutoff = now - import_stuck_after()
    limit = settings.IMPORT_MAX_ATTEMPTS

    unfinished = (
        ImportBatch.objects.select_for_update(skip_locked=True)
        .filter(status__in=UNFINISHED)
        .annotate(
            clock_started=Case(
                When(status=ImportBatch.Status.RUNNING, then=Coalesce("started_at", "queued_at")),
                default=F("queued_at"),
            )
        )
    )
    too_many = list(unfinished.filter(attempts__gt=limit).order_by("id"))
    stuck = list(unfinished.filter(Q(clock_started__lt=cutoff) & Q(attempts__lte=limit)).order_by("id"))

    for batch in too_many:
        _fail(batch, TOO_MANY_ATTEMPTS_MESSAGE.format(attempts=batch.attempts, limit=limit), now=now)
    for batch in stuck:
        _fail(batch, STUCK_MESSAGE, now=now)
    return SweepResult(stuck=[b.id for b in stuck], too_many_attempts=[b.id for b in too_many])


def _fail(batch: ImportBatch, message: str, *, now: datetime) -> None:
    batch.status = ImportBatch.Status.FAILED
    batch.message = message
    batch.finished_at = now
    batch.save(update_fields=["status", "message", "finished_at"])
