from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import ImportBatch
from analytics.services.import_sweep import (
    STUCK_MESSAGE,
    import_batches_sweep,
    import_stuck_after,
)
from analytics.tests.factories import ImportBatchFactory

pytestmark = pytest.mark.django_db

Status = ImportBatch.Status


def _batch(status: str, *, age: timedelta, attempts: int = 1, started: bool = True) -> ImportBatch:
    at = timezone.now() - age
    return ImportBatchFactory(
        status=status, attempts=attempts, queued_at=at, started_at=at if started else None, message=""
    )


def test_stuck_after_is_the_task_timeout_plus_the_broker_retry(settings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 100, "retry": 250}
    assert import_stuck_after() == timedelta(seconds=350)


def test_running_batch_past_timeout_plus_retry_is_failed_with_the_reason(settings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60, "retry": 120}
    stuck = _batch(Status.RUNNING, age=timedelta(seconds=181))
    alive = _batch(Status.RUNNING, age=timedelta(seconds=170))

    result = import_batches_sweep()

    assert result.stuck == [stuck.id]
    stuck.refresh_from_db()
    alive.refresh_from_db()
    assert stuck.status == Status.FAILED
    assert stuck.message == STUCK_MESSAGE
    assert stuck.finished_at is not None
    assert alive.status == Status.RUNNING
    assert alive.message == ""


def test_queued_batch_never_started_is_failed_once_its_queue_time_is_past_the_limit(settings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60, "retry": 120}
    lost = _batch(Status.QUEUED, age=timedelta(minutes=10), attempts=0, started=False)
    waiting = _batch(Status.QUEUED, age=timedelta(seconds=30), attempts=0, started=False)

    result = import_batches_sweep()

    assert result.failed == [lost.id]
    assert ImportBatch.objects.get(pk=lost.id).status == Status.FAILED
    assert ImportBatch.objects.get(pk=waiting.id).status == Status.QUEUED


def test_a_retried_batch_counts_from_its_new_queue_time_not_its_old_start(settings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60, "retry": 120}
    old = timezone.now() - timedelta(days=2)
    retried = ImportBatchFactory(status=Status.QUEUED, attempts=0, queued_at=timezone.now(), started_at=old)
    ImportBatch.objects.filter(pk=retried.pk).update(created_at=old)

    assert import_batches_sweep().failed == []
    assert ImportBatch.objects.get(pk=retried.id).status == Status.QUEUED


def test_batch_with_attempts_over_the_limit_is_failed_even_when_recent(settings) -> None:
    settings.IMPORT_MAX_ATTEMPTS = 3
    over = _batch(Status.RUNNING, age=timedelta(seconds=5), attempts=4)
    at_limit = _batch(Status.RUNNING, age=timedelta(seconds=5), attempts=3)

    result = import_batches_sweep()

    assert result.too_many_attempts == [over.id]
    over.refresh_from_db()
    assert over.status == Status.FAILED
    assert "4 times" in over.message and "limit is 3" in over.message
    assert ImportBatch.objects.get(pk=at_limit.id).status == Status.RUNNING


def test_finished_batches_are_left_alone_however_old(settings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 1, "retry": 2}
    done = _batch(Status.SUCCEEDED, age=timedelta(days=3), attempts=9)
    failed = _batch(Status.FAILED, age=timedelta(days=3))
    failed_message = failed.message

    assert import_batches_sweep().failed == []
    assert ImportBatch.objects.get(pk=done.id).status == Status.SUCCEEDED
    assert ImportBatch.objects.get(pk=failed.id).message == failed_message


def test_the_scheduled_task_reports_what_it_failed(settings) -> None:
    from analytics.tasks import import_batches_sweep_task

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60, "retry": 120}
    settings.IMPORT_MAX_ATTEMPTS = 3
    stuck = _batch(Status.RUNNING, age=timedelta(hours=1))
    over = _batch(Status.RUNNING, age=timedelta(seconds=1), attempts=4)

    assert import_batches_sweep_task() == {"stuck": [stuck.id], "too_many_attempts": [over.id]}
