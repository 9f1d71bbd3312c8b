from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from analytics.models import ImportBatch
from analytics.services.import_retry import IMPORT_TASK, import_batch_retry
from analytics.tests.factories import ImportBatchFactory
from retail_platform.errors import ApplicationError

pytestmark = pytest.mark.django_db

Status = ImportBatch.Status


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _failed_batch(**fields) -> ImportBatch:
    batch = ImportBatchFactory(
        status=Status.FAILED,
        attempts=3,
        stage="load",
        progress=40,
        rows_read=10,
        rejected=10,
        errors=[{"row": 2, "column": "price", "value": "x", "reason": "not a number"}],
        error_count=10,
        warnings=["extra column ignored"],
        timings={"read": 0.1},
        message="Worker stopped",
        started_at=timezone.now() - timedelta(hours=2),
        finished_at=timezone.now() - timedelta(hours=1),
        queued_at=timezone.now() - timedelta(hours=3),
        **fields,
    )
    batch.file.save("retry.csv", ContentFile(b"invoice_no\n"), save=True)
    return batch


def test_retry_requeues_a_failed_batch_with_a_clean_slate(django_capture_on_commit_callbacks) -> None:
    batch = _failed_batch()
    before = timezone.now()

    with mock.patch("django_q.tasks.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        result = import_batch_retry(batch_id=batch.id)

    batch.refresh_from_db()
    assert result.id == batch.id
    assert batch.status == Status.QUEUED
    assert batch.attempts == 0
    assert (batch.rows_read, batch.imported, batch.rejected, batch.duplicates) == (0, 0, 0, 0)
    assert batch.errors == [] and batch.error_count == 0 and batch.warnings == [] and batch.timings == {}
    assert (batch.stage, batch.progress) == ("", 0)
    assert batch.started_at is None and batch.finished_at is None
    assert batch.queued_at >= before
    async_task.assert_called_once()
    assert async_task.call_args.args == (IMPORT_TASK, batch.id)


def test_retry_enqueues_only_when_the_transaction_commits(django_capture_on_commit_callbacks) -> None:
    batch = _failed_batch()
    with mock.patch("django_q.tasks.async_task") as async_task, django_capture_on_commit_callbacks() as callbacks:
        import_batch_retry(batch_id=batch.id)
        assert async_task.call_count == 0
    assert len(callbacks) == 1


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.RUNNING, Status.QUEUED])
def test_only_failed_batches_can_be_retried(status: str) -> None:
    batch = _failed_batch()
    ImportBatch.objects.filter(pk=batch.pk).update(status=status)

    with pytest.raises(ApplicationError) as raised:
        import_batch_retry(batch_id=batch.id)

    assert raised.value.status == 409
    assert status in raised.value.message
    assert ImportBatch.objects.get(pk=batch.pk).attempts == 3


def test_retry_of_a_batch_whose_file_is_gone_says_upload_again() -> None:
    batch = _failed_batch()
    batch.file.delete(save=False)

    with pytest.raises(ApplicationError, match="upload it again"):
        import_batch_retry(batch_id=batch.id)
    assert ImportBatch.objects.get(pk=batch.pk).status == Status.FAILED


def test_retry_of_an_unknown_batch_is_a_404() -> None:
    with pytest.raises(ApplicationError) as raised:
        import_batch_retry(batch_id=987654)
    assert raised.value.status == 404
