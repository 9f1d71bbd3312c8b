from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from analytics.models import ImportBatch, TransactionLine
from analytics.services import import_inbox
from analytics.services.import_inbox import import_inbox_scan
from analytics.tests.factories import ImportBatchFactory

pytestmark = pytest.mark.django_db

HEADER = "invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall\n"
DAY_1 = HEADER + (
    "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon\n"
    "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,5/8/2022,Forum Istanbul\n"
)
DAY_2 = HEADER + (
    "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,5/8/2022,Forum Istanbul\n"  # overlaps day 1
    "I3,C1,Female,28,Books,1,15.15,Cash,6/8/2022,Kanyon\n"
)
BROKEN = HEADER + "I9,C9,Female,28,Clothing,5,1500.40,Credit Card,31/31/2022,Kanyon\n"


@pytest.fixture
def inbox(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_INBOX_DIR = tmp_path / "inbox"
    settings.IMPORT_INBOX_DIR.mkdir()
    return settings.IMPORT_INBOX_DIR


def drop(inbox: Path, name: str, text: str, *, age_seconds: float = 60) -> Path:
    path = inbox / name
    path.write_text(text, encoding="utf-8")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_new_file_is_imported_once_and_moved_to_done_with_its_batch_id(inbox):
    drop(inbox, "sales-2022-08-05.csv", DAY_1)

    [result] = import_inbox_scan()

    batch = ImportBatch.objects.get()
    assert (result.batch_id, result.status) == (batch.id, ImportBatch.Status.SUCCEEDED)
    assert batch.source == ImportBatch.Source.INBOX
    assert batch.file_name == "sales-2022-08-05.csv"
    assert batch.imported == 2
    assert TransactionLine.objects.count() == 2
    assert result.moved_to == inbox / "done" / f"batch-{batch.id}--sales-2022-08-05.csv"
    assert result.moved_to.read_text(encoding="utf-8") == DAY_1
    assert [p for p in names(inbox) if p.endswith(".csv")] == []
    assert names(inbox / "processing") == []

    assert import_inbox_scan() == []
    assert ImportBatch.objects.count() == 1


def test_files_are_imported_oldest_first_and_an_overlapping_export_adds_only_new_lines(inbox):
    drop(inbox, "b-second.csv", DAY_2, age_seconds=30)
    drop(inbox, "a-first.csv", DAY_1, age_seconds=90)

    results = import_inbox_scan()

    assert [r.file_name for r in results] == ["a-first.csv", "b-second.csv"]
    second = ImportBatch.objects.get(file_name="b-second.csv")
    assert (second.status, second.imported, second.duplicates) == (ImportBatch.Status.SUCCEEDED, 1, 1)
    assert TransactionLine.objects.count() == 3
    assert len(names(inbox / "done")) == 2


def test_a_bad_file_goes_to_failed_with_a_note_giving_the_reason(inbox):
    drop(inbox, "broken.csv", BROKEN)

    [result] = import_inbox_scan()

    batch = ImportBatch.objects.get()
    assert result.status == batch.status == ImportBatch.Status.FAILED
    assert result.moved_to == inbox / "failed" / f"batch-{batch.id}--broken.csv"
    note = (inbox / "failed" / f"batch-{batch.id}--broken.csv.reason.txt").read_text(encoding="utf-8")
    assert note.strip() == batch.message.strip()
    assert "invoice_date" in note
    assert TransactionLine.objects.count() == 0


def test_a_file_refused_before_any_batch_exists_goes_to_failed_with_the_reason(inbox, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    drop(inbox, "huge.csv", DAY_1)

    [result] = import_inbox_scan()

    assert (result.batch_id, result.status) == (None, "rejected")
    assert result.moved_to.parent == inbox / "failed"
    assert result.moved_to.name.endswith("--huge.csv")
    note = Path(str(result.moved_to) + ".reason.txt").read_text(encoding="utf-8")
    assert "huge.csv" in note and "MB" in note  # the size and the limit
    assert not ImportBatch.objects.exists()


def test_hidden_partial_and_still_growing_files_are_left_for_later(inbox):
    drop(inbox, ".upload-in-progress.csv", DAY_1)
    drop(inbox, "copying.csv.part", DAY_1)
    drop(inbox, "just-arrived.csv", DAY_1, age_seconds=0)

    assert import_inbox_scan(settle_seconds=5) == []

    assert not ImportBatch.objects.exists()
    assert {".upload-in-progress.csv", "copying.csv.part", "just-arrived.csv"} <= set(names(inbox))


def test_a_file_can_be_claimed_only_once(inbox):
    dirs = import_inbox.inbox_dirs()
    path = drop(inbox, "sales.csv", DAY_1)

    first = import_inbox._claim(path, dirs["processing"])
    second = import_inbox._claim(path, dirs["processing"])

    assert first is not None and first.parent == dirs["processing"] and first.read_text() == DAY_1
    assert second is None
    assert names(dirs["processing"]) == [first.name]


def test_file_left_in_processing_by_a_killed_scan_moves_on_once_its_batch_has_ended(inbox):
    dirs = import_inbox.inbox_dirs()
    ended = ImportBatchFactory(status=ImportBatch.Status.FAILED, message="The worker stopped during the import.")
    running = ImportBatchFactory(status=ImportBatch.Status.RUNNING)
    (dirs["processing"] / f"batch-{ended.id}--old.csv").write_text(DAY_1)
    (dirs["processing"] / f"batch-{running.id}--busy.csv").write_text(DAY_1)

    results = import_inbox_scan()

    assert [(r.batch_id, r.status) for r in results] == [(ended.id, ImportBatch.Status.FAILED)]
    assert names(dirs["failed"]) == [f"batch-{ended.id}--old.csv", f"batch-{ended.id}--old.csv.reason.txt"]
    assert names(dirs["processing"]) == [f"batch-{running.id}--busy.csv"]


def test_a_stale_claim_without_a_batch_goes_back_into_the_inbox(inbox, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60, "retry": 120}
    dirs = import_inbox.inbox_dirs()
    stale = int(time.time()) - 600
    fresh = int(time.time())
    (dirs["processing"] / f"claim-{stale}-0123abcd--lost.csv").write_text(DAY_1)
    (dirs["processing"] / f"claim-{fresh}-4567abcd--being-imported.csv").write_text(DAY_2)

    import_inbox_scan(settle_seconds=3600)  # recover only: nothing in the inbox is old enough to import

    assert (inbox / "lost.csv").read_text() == DAY_1
    assert names(dirs["processing"]) == [f"claim-{fresh}-4567abcd--being-imported.csv"]


def test_the_scheduled_task_scans_the_configured_inbox(inbox):
    from analytics.tasks import import_inbox_scan_task

    drop(inbox, "sales.csv", DAY_1)

    summary = import_inbox_scan_task()

    batch = ImportBatch.objects.get()
    assert summary == [{"file": "sales.csv", "batch_id": batch.id, "status": "succeeded"}]
