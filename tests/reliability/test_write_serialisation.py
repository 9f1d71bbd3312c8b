"""Two imports at once, and an import and a refit at once, run one after the other.

Both take the PostgreSQL advisory lock of retail_platform.locks inside their transaction. Each test
starts the second writer while the first is loading, watches PostgreSQL queue it on the lock, and
checks the result: every row of both files, or a refit that saw the whole import.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from analytics.demo_data import demo_rows_write
from analytics.models import Customer, ImportBatch, TransactionLine
from analytics.services.import_batches import import_batch_create, import_batch_run
from retail_platform.locks import DATA_WRITE_LOCK_KEY
from segmentation.models import SegmentationRun
from segmentation.services.refit import segmentation_run_create

pytestmark = pytest.mark.django_db(transaction=True)

BIG_ROWS = 150_000
SMALL_ROWS = 2_000


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _batch(directory: Path, name: str, rows: int, seed: int) -> ImportBatch:
    path = demo_rows_write(directory / name, rows=rows, seed=seed)
    return import_batch_create(path_or_file=path, file_name=name, source=ImportBatch.Source.COMMAND, enqueue=False)


def _in_thread(work: Callable[[], Any], results: dict[str, Any], key: str) -> threading.Thread:
    def run() -> None:
        try:
            results[key] = work()
            results[f"{key}_done_at"] = time.monotonic()
        except BaseException as error:
            results[key] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_loading(batch_id: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status == ImportBatch.Status.RUNNING and batch.stage in ("validate", "load"):
            return
        assert batch.status != ImportBatch.Status.FAILED, batch.message
        time.sleep(0.02)
    raise AssertionError(f"batch {batch_id} never started loading")


def _queued_on_the_lock(seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted",
                [DATA_WRITE_LOCK_KEY],
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


def test_two_imports_at_once_run_one_after_the_other_and_keep_every_row(tmp_path: Path) -> None:
    first = _batch(tmp_path, "big.csv", BIG_ROWS, seed=1)
    second = _batch(tmp_path, "small.csv", SMALL_ROWS, seed=2)
    results: dict[str, Any] = {}

    a = _in_thread(lambda: import_batch_run(batch_id=first.id, queue_refit=False), results, "first")
    _wait_until_loading(first.id)
    b = _in_thread(lambda: import_batch_run(batch_id=second.id, queue_refit=False), results, "second")
    queued = _queued_on_the_lock()
    lines_while_queued = TransactionLine.objects.count()
    a.join(300)
    b.join(300)

    assert queued, "the second import did not wait for the first"
    assert lines_while_queued == 0  # nothing of either import is visible before a commit
    first, second = results["first"], results["second"]
    assert first.status == second.status == ImportBatch.Status.SUCCEEDED, (first.message, second.message)
    assert results["second_done_at"] >= results["first_done_at"]
    assert second.started_at <= first.finished_at  # the second started while the first ran ...
    assert second.finished_at >= first.finished_at  # ... and finished after it
    assert (first.imported, second.imported) == (BIG_ROWS, SMALL_ROWS)
    assert TransactionLine.objects.count() == BIG_ROWS + SMALL_ROWS


def test_a_refit_during_an_import_waits_and_then_segments_the_whole_import(tmp_path: Path) -> None:
    batch = _batch(tmp_path, "big.csv", BIG_ROWS, seed=3)
    results: dict[str, Any] = {}

    a = _in_thread(lambda: import_batch_run(batch_id=batch.id, queue_refit=False), results, "import")
    _wait_until_loading(batch.id)
    b = _in_thread(segmentation_run_create, results, "refit")
    queued = _queued_on_the_lock()
    a.join(300)
    b.join(300)

    assert queued, "the refit did not wait for the import"
    imported, run = results["import"], results["refit"]
    assert imported.status == ImportBatch.Status.SUCCEEDED, imported.message
    assert isinstance(run, SegmentationRun), run
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.message
    assert results["refit_done_at"] >= results["import_done_at"]
    assert run.import_batch_id == batch.id  # it knew the import it ran after
    assert run.customers == Customer.objects.count() > 0  # every customer of the file, not a part
