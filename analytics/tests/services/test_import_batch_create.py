"""Creating a batch (storing the upload, its hash and size, the mapping) and the run's bookkeeping."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from analytics.models import ColumnMapping, ImportBatch, TransactionLine
from analytics.services import import_batches
from analytics.services.import_batches import import_batch_create, import_batch_run
from analytics.tests.services.conftest import mall_csv
from retail_platform.errors import ApplicationError

pytestmark = pytest.mark.django_db

CONTENT = mall_csv("I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon").encode()


def test_create_stores_the_file_with_its_sha256_and_size(media):
    upload = SimpleUploadedFile("day 1.csv", CONTENT, content_type="text/csv")

    batch = import_batch_create(
        path_or_file=upload, file_name="day 1.csv", source=ImportBatch.Source.API, enqueue=False
    )

    assert batch.status == ImportBatch.Status.QUEUED
    assert batch.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert batch.size_bytes == len(CONTENT)
    assert batch.file.name.startswith("imports/")
    with batch.file.open("rb") as stored:
        assert stored.read() == CONTENT
    assert (media / batch.file.name).is_file()


def test_create_reads_a_path_and_a_plain_stream(media, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(CONTENT)

    from_path = import_batch_create(path_or_file=path, file_name="x.csv", source="command", enqueue=False)
    from_stream = import_batch_create(
        path_or_file=io.BytesIO(CONTENT), file_name="../../etc/y.csv", source="api", enqueue=False
    )

    assert from_path.sha256 == from_stream.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert from_stream.file_name == "y.csv"


def test_a_file_over_the_size_limit_is_refused_with_413(media, settings, tmp_path):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 101)

    with pytest.raises(ApplicationError) as caught:
        import_batch_create(path_or_file=path, file_name="big.csv", source="command", enqueue=False)

    assert caught.value.status == 413
    assert caught.value.message.startswith("big.csv is 0.0 MB; files up to 0.0 MB can be imported.")
    assert caught.value.extra == {"file_name": "big.csv", "size_bytes": 101, "limit_bytes": 100}
    assert ImportBatch.objects.count() == 0


def test_a_stream_over_the_size_limit_without_a_size_is_refused(media, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10

    with pytest.raises(ApplicationError) as caught:
        import_batch_create(path_or_file=io.BytesIO(b"y" * 11), file_name="s.csv", source="api", enqueue=False)

    assert caught.value.status == 413
    assert ImportBatch.objects.count() == 0


def test_an_unknown_mapping_name_lists_the_valid_presets(media):
    ColumnMapping.objects.create(name="till-export", mapping={"columns": {"customer": "a", "date": "b", "price": "c"}})

    with pytest.raises(ApplicationError) as caught:
        import_batch_create(path_or_file=io.BytesIO(CONTENT), file_name="a.csv", source="api", mapping_name="nope")

    assert caught.value.message == "Unknown column mapping 'nope'. Valid presets: mall, online_retail_ii, till-export."
    assert caught.value.status == 400


def test_an_invalid_mapping_says_what_is_wrong(media):
    with pytest.raises(ApplicationError) as caught:
        import_batch_create(
            path_or_file=io.BytesIO(CONTENT),
            file_name="a.csv",
            source="api",
            mapping={"columns": {"customer": "a", "date": "b"}, "price_is": "line_amount"},
        )

    assert "The mapping given is not valid" in caught.value.message
    assert "price missing" in caught.value.message


def test_create_queues_the_import_task_on_commit(media, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = import_batch_create(path_or_file=io.BytesIO(CONTENT), file_name="a.csv", source="api")

    assert len(callbacks) == 1
    assert queued == [("analytics.tasks.import_batch_run_task", batch.id)]


def test_a_saved_mapping_is_used_by_name(run_import):
    ColumnMapping.objects.create(
        name="till",
        mapping={"columns": {"customer": "who", "date": "when", "price": "paid"}, "date_format": "ymd"},
    )

    batch = run_import("who,when,paid\nA1,2023-02-01,9.99\n", mapping_name="till")

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert TransactionLine.objects.get().customer.external_id == "A1"


def test_run_is_a_no_op_for_a_batch_that_already_ended(run_import):
    batch = run_import(CONTENT)
    attempts = batch.attempts

    again = import_batch_run(batch_id=batch.id)

    assert again.status == ImportBatch.Status.SUCCEEDED
    assert again.attempts == attempts == 1
    assert TransactionLine.objects.count() == 1


def test_run_gives_up_after_the_maximum_attempts(media, settings):
    settings.IMPORT_MAX_ATTEMPTS = 2
    batch = import_batch_create(path_or_file=io.BytesIO(CONTENT), file_name="a.csv", source="api", enqueue=False)
    # Two workers died mid-import: the batch is still running, its attempts counted.
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, attempts=2)

    batch = import_batch_run(batch_id=batch.id)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.attempts == 3
    assert batch.message == "a.csv: gave up after 2 interrupted attempts (the limit is 2). Nothing was imported."
    assert TransactionLine.objects.count() == 0


def test_a_successful_run_queues_the_refit_after_commit(media, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    batch = import_batch_create(path_or_file=io.BytesIO(CONTENT), file_name="a.csv", source="api", enqueue=False)

    with django_capture_on_commit_callbacks(execute=True):
        batch = import_batch_run(batch_id=batch.id)

    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert ("segmentation.tasks.segmentation_refit_task", batch.id) in queued


def test_a_failed_run_queues_no_refit(media, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    batch = import_batch_create(
        path_or_file=io.BytesIO(b"garbage\x00\x01"), file_name="a.csv", source="api", enqueue=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        batch = import_batch_run(batch_id=batch.id)

    assert batch.status == ImportBatch.Status.FAILED
    assert queued == []


def test_run_reports_progress_through_its_own_connection(run_import, monkeypatch):
    seen = []
    original = import_batches.ProgressWriter.update

    def spy(self, stage, progress, *, force=False):
        seen.append(stage)
        original(self, stage, progress, force=force)

    monkeypatch.setattr(import_batches.ProgressWriter, "update", spy)

    batch = run_import(CONTENT)

    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert list(dict.fromkeys(seen)) == ["read", "validate", "load", "aggregates"]


def test_a_broken_progress_connection_never_fails_the_import(run_import, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no more connections")

    monkeypatch.setattr("psycopg.connect", refuse)

    batch = run_import(CONTENT)

    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert connection.is_usable()


def test_the_stored_file_missing_fails_the_batch(media):
    batch = import_batch_create(path_or_file=io.BytesIO(CONTENT), file_name="a.csv", source="api", enqueue=False)
    batch.file.storage.delete(batch.file.name)

    batch = import_batch_run(batch_id=batch.id)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message == "a.csv: the stored file is missing; upload it again."


def test_the_task_returns_the_counts(run_import):
    from analytics.tasks import import_batch_run_task

    batch = import_batch_create(path_or_file=io.BytesIO(CONTENT), file_name="a.csv", source="api", enqueue=False)

    result = import_batch_run_task(batch.id)

    assert result == {
        "batch_id": batch.id,
        "status": "succeeded",
        "rows_read": 1,
        "imported": 1,
        "rejected": 0,
        "duplicates": 0,
    }
