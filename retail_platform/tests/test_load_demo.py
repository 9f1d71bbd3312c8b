from __future__ import annotations

import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from analytics.models import ImportBatch, TransactionLine
from analytics.tests.factories import TransactionLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=out)
    return out.getvalue()


def file_totals(path) -> tuple[int, Decimal, Decimal, int]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    gross = sum((Decimal(row["price"]) for row in rows), Decimal(0))
    discount = sum((Decimal(row["discount"]) for row in rows), Decimal(0))
    customers = len({row["customer_id"] for row in rows})
    return len(rows), gross, discount, customers


def test_empty_database_gets_the_demo_data_imported_and_segmented(tmp_path):
    from segmentation.models import SegmentationRun

    output = run("--rows", "2000", "--dir", str(tmp_path / "demo"))

    [path] = (tmp_path / "demo").glob("*.csv")
    rows, gross, discount, customers = file_totals(path)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.source, batch.rows_read, batch.imported) == ("succeeded", "command", 2000, 2000)
    totals = TransactionLine.objects.aggregate(gross=Sum("gross_amount"), net=Sum("net_amount"))
    assert totals["gross"] == gross
    assert totals["net"] == gross - discount
    assert discount > 0
    assert customers < rows  # customers come back in the demo data
    assert TransactionLine.objects.values("customer").distinct().count() == customers
    segmentation_run = SegmentationRun.objects.get()
    assert (segmentation_run.import_batch_id, segmentation_run.status) == (batch.id, "succeeded")
    assert f"Imported batch {batch.id}: 2,000 rows read, 2,000 imported" in output
    assert f"Customer segments refitted (run {segmentation_run.pk}" in output


def test_existing_data_is_left_alone(tmp_path):
    TransactionLineFactory()

    output = run("--rows", "2000", "--dir", str(tmp_path / "demo"))

    assert "already holds transactions" in output
    assert ImportBatch.objects.count() == 1  # the factory's
    assert not (tmp_path / "demo").exists()


def test_second_run_does_nothing(tmp_path):
    run("--rows", "500", "--dir", str(tmp_path), "--no-refit")
    output = run("--rows", "500", "--dir", str(tmp_path), "--no-refit")

    assert "already holds transactions" in output
    assert ImportBatch.objects.count() == 1
    assert TransactionLine.objects.count() == 500
