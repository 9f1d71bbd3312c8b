"""The whole way in with a real django-q2 worker: upload through the API, the worker imports."""

from __future__ import annotations

import csv
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from rest_framework.test import APIClient

from analytics.demo_data import demo_rows_write
from analytics.models import ImportBatch, TransactionLine

pytestmark = pytest.mark.worker

ROWS = 1_500


@pytest.fixture
def shared_media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # the worker is started with the same MEDIA_ROOT


def wait_for_end(batch_id: int, timeout: float = 60) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status in (ImportBatch.Status.SUCCEEDED, ImportBatch.Status.FAILED):
            return batch
        time.sleep(0.5)
    raise AssertionError(f"batch {batch_id} still {batch.status} after {timeout} s")


def test_upload_through_the_api_is_imported_by_a_real_worker(shared_media, qcluster_worker_factory, tmp_path):
    path = demo_rows_write(tmp_path / "sales.csv", rows=ROWS, seed=11)
    with open(path, newline="", encoding="utf-8") as handle:
        gross = sum((Decimal(row["price"]) for row in csv.DictReader(handle)), Decimal(0))
    staff = User.objects.create_user("ops", password="pw-ops", is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="ops", password="pw-ops")
    client.get("/accounts/login/")
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    worker = qcluster_worker_factory()

    response = client.post(
        "/api/imports", {"file": SimpleUploadedFile("sales.csv", path.read_bytes(), "text/csv")}, format="multipart"
    )
    assert response.status_code == 202, response.content
    batch = wait_for_end(response.json()["id"])

    assert batch.status == ImportBatch.Status.SUCCEEDED, (batch.message, worker.log()[-3000:])
    assert (batch.rows_read, batch.imported, batch.rejected, batch.duplicates) == (ROWS, ROWS, 0, 0)
    assert batch.attempts == 1
    assert batch.uploaded_by == staff
    assert TransactionLine.objects.count() == ROWS
    assert TransactionLine.objects.aggregate(total=Sum("gross_amount"))["total"] == gross
    body = client.get(f"/api/imports/{batch.id}").json()
    assert (body["status"], body["progress"], body["imported"]) == ("succeeded", 100, ROWS)
