"""A worker SIGKILLed in the middle of an import, with real django-q2 workers on the test database.

- nothing of the import is left behind (it is one transaction), the batch does not stay "running"
  for ever (the stuck-batch sweep fails it, with the reason), and a retry through the API imports
  the whole file;
- when the queue hands the killed worker's task out again (at-least-once delivery, past `retry`),
  the import runs again from scratch and lands exactly once.
"""

from __future__ import annotations

import csv
import signal
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum
from django.test import override_settings
from rest_framework.test import APIClient

from analytics.demo_data import demo_rows_write
from analytics.models import Category, Customer, ImportBatch, Store, TransactionLine
from analytics.services.import_batches import import_batch_create
from analytics.services.import_sweep import STUCK_MESSAGE, import_batches_sweep

pytestmark = pytest.mark.worker

ROWS = 300_000  # a few seconds of import on a busy two-core machine: time to kill it in the middle
REDELIVERY_ROWS = 100_000
KILL_AT_STAGES = ("validate", "load")


@pytest.fixture
def shared_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"  # the workers are started with the same MEDIA_ROOT
    return settings.MEDIA_ROOT


def _sales_file(directory: Path, rows: int) -> tuple[Path, Decimal]:
    path = demo_rows_write(directory / "sales.csv", rows=rows, seed=5)
    with path.open(newline="", encoding="utf-8") as handle:
        gross = sum((Decimal(row["price"]) for row in csv.DictReader(handle)), Decimal(0))
    return path, gross


def _queue(path: Path) -> ImportBatch:
    return import_batch_create(path_or_file=path, file_name=path.name, source=ImportBatch.Source.API)


def _kill_in_the_middle(worker: Any, batch_id: int, timeout: float = 120) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status == ImportBatch.Status.RUNNING and batch.stage in KILL_AT_STAGES:
            worker.kill(signal.SIGKILL)
            worker.process.wait(timeout=10)
            return ImportBatch.objects.get(pk=batch_id)
        assert batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING), (batch.status, batch.message)
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} never reached {KILL_AT_STAGES}: {worker.log()[-2000:]}")


def _wait_for_end(batch_id: int, timeout: float) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status in (ImportBatch.Status.SUCCEEDED, ImportBatch.Status.FAILED):
            return batch
        time.sleep(0.5)
    raise AssertionError(f"batch {batch_id} still {batch.status} after {timeout} s")


def _nothing_imported() -> None:
    assert TransactionLine.objects.count() == 0
    assert (Store.objects.count(), Category.objects.count(), Customer.objects.count()) == (0, 0, 0)


def _imported_exactly_once(batch: ImportBatch, rows: int, gross: Decimal) -> None:
    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert (batch.rows_read, batch.imported, batch.rejected, batch.duplicates) == (rows, rows, 0, 0)
    assert TransactionLine.objects.count() == rows
    assert TransactionLine.objects.aggregate(total=Sum("gross_amount"))["total"] == gross


def test_a_worker_killed_mid_import_leaves_no_rows_the_batch_ends_failed_and_a_retry_imports_it_all(
    shared_media: Path, tmp_path: Path, qcluster_worker_factory: Callable[..., Any]
) -> None:
    path, gross = _sales_file(tmp_path, ROWS)
    worker = qcluster_worker_factory()
    batch = _queue(path)

    killed = _kill_in_the_middle(worker, batch.id)

    assert killed.status == ImportBatch.Status.RUNNING  # what a SIGKILL leaves: nobody to say otherwise
    assert killed.attempts == 1
    _nothing_imported()

    # The scheduled sweep, with a cluster whose timeout + retry have passed since the worker started.
    with override_settings(Q_CLUSTER={**_q_cluster(), "timeout": 1, "retry": 2}):
        time.sleep(max(0.0, 3.5 - (time.time() - killed.started_at.timestamp())))
        swept = import_batches_sweep()
    assert swept.stuck == [batch.id]
    failed = ImportBatch.objects.get(pk=batch.id)
    assert failed.status == ImportBatch.Status.FAILED
    assert failed.message == STUCK_MESSAGE
    _nothing_imported()

    staff = User.objects.create_user("ops", password="pw-ops", is_staff=True)
    api = APIClient()
    api.force_authenticate(staff)
    response = api.post(f"/api/imports/{batch.id}/retry")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    qcluster_worker_factory()

    _imported_exactly_once(_wait_for_end(batch.id, timeout=240), ROWS, gross)
    assert ImportBatch.objects.get(pk=batch.id).attempts == 1


def test_a_killed_workers_task_delivered_again_imports_the_file_once(
    shared_media: Path, tmp_path: Path, qcluster_worker_factory: Callable[..., Any]
) -> None:
    path, gross = _sales_file(tmp_path, REDELIVERY_ROWS)
    # The broker hands an unacknowledged task out again after `retry` seconds: keep both short
    # here, with the timeout still well above what the import needs.
    short = {"Q_TASK_TIMEOUT": "20", "Q_TASK_RETRY": "21"}
    worker = qcluster_worker_factory(**short)
    batch = _queue(path)

    _kill_in_the_middle(worker, batch.id)
    _nothing_imported()
    qcluster_worker_factory(**short)

    again = _wait_for_end(batch.id, timeout=240)
    _imported_exactly_once(again, REDELIVERY_ROWS, gross)
    assert again.attempts == 2  # the first, killed, and the redelivered one


def _q_cluster() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.Q_CLUSTER)
