"""`manage.py import_transactions`: sync and queued imports, JSON output, exit codes, the done-when check."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from django.db.models.functions import TruncMonth

from analytics.demo_data import demo_rows_write
from analytics.models import ImportBatch, TransactionLine

pytestmark = pytest.mark.django_db

HEADER = "invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall\n"
GOOD = HEADER + "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("import_transactions", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_sync_json_reports_the_batch_counts_and_stage_timings(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD, encoding="utf-8")

    out, error = run(str(path), "--sync", "--json", "--no-refit")

    assert error is None
    report = json.loads(out)
    batch = ImportBatch.objects.get()
    assert report["batch_id"] == batch.id
    assert report["status"] == "succeeded"
    assert (report["rows_read"], report["imported"], report["rejected"], report["duplicates"]) == (1, 1, 0, 0)
    assert report["errors"] == []
    assert {"read", "validate", "load", "aggregates"} <= set(report["timings"])
    assert batch.source == ImportBatch.Source.COMMAND


def test_sync_runs_the_refit_in_process_and_times_it(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD, encoding="utf-8")

    out, error = run(str(path), "--sync", "--json")

    assert error is None
    report = json.loads(out)
    assert "refit" in report["timings"]
    assert report["refit"]["run_id"] is not None
    from segmentation.models import SegmentationRun

    assert SegmentationRun.objects.filter(pk=report["refit"]["run_id"], import_batch_id=report["batch_id"]).exists()


def test_a_failed_import_exits_non_zero_with_the_message_and_first_errors(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(GOOD + "I2,C2,Male,21,Shoes,3,lots,Debit Card,6/8/2022,Kanyon\n", encoding="utf-8")

    out, error = run(str(path), "--sync", "--json")

    assert error is not None
    assert error.returncode == 1
    assert str(error).startswith("broken.csv: row 3, column 'price': not a number")
    report = json.loads(out)
    assert report["status"] == "failed"
    assert report["errors"] == [{"row": 3, "column": "price", "value": "lots", "reason": report["errors"][0]["reason"]}]
    assert TransactionLine.objects.count() == 0


def test_skip_invalid_imports_the_good_rows_and_exits_zero(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(GOOD + "I2,C2,Male,21,Shoes,3,lots,Debit Card,6/8/2022,Kanyon\n", encoding="utf-8")

    out, error = run(str(path), "--sync", "--json", "--skip-invalid", "--no-refit")

    assert error is None
    report = json.loads(out)
    assert (report["rows_read"], report["imported"], report["rejected"]) == (2, 1, 1)
    assert report["errors"][0]["row"] == 3


def test_reimporting_a_file_succeeds_as_a_no_op(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD, encoding="utf-8")
    run(str(path), "--sync", "--no-refit")

    out, error = run(str(path), "--sync", "--json", "--no-refit")

    assert error is None
    report = json.loads(out)
    assert (report["imported"], report["duplicates"]) == (0, 1)
    assert TransactionLine.objects.count() == 1


def test_without_sync_the_batch_is_queued_for_the_worker(tmp_path, django_capture_on_commit_callbacks, monkeypatch):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD, encoding="utf-8")
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        out, error = run(str(path))

    batch = ImportBatch.objects.get()
    assert error is None
    assert out.strip() == f"Queued import batch {batch.id} (sales.csv) for the worker."
    assert batch.status == ImportBatch.Status.QUEUED
    assert queued == [("analytics.tasks.import_batch_run_task", batch.id)]
    assert TransactionLine.objects.count() == 0


def test_a_json_mapping_file_is_used(tmp_path):
    mapping = tmp_path / "shop.json"
    mapping.write_text(
        json.dumps({"columns": {"customer": "who", "date": "when", "price": "paid"}, "date_format": "ymd"}),
        encoding="utf-8",
    )
    path = tmp_path / "shop.csv"
    path.write_text("who,when,paid\nA1,2023-02-01,9.99\n", encoding="utf-8")

    _out, error = run(str(path), "--mapping", str(mapping), "--sync", "--json", "--no-refit")

    assert error is None, error
    line = TransactionLine.objects.get()
    assert (line.invoice_no, line.gross_amount, line.date) == ("A1/2023-02-01", Decimal("9.99"), dt.date(2023, 2, 1))
    assert ImportBatch.objects.get().mapping_name == "shop"


def test_an_unknown_preset_is_refused_with_the_valid_names(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD, encoding="utf-8")

    _, error = run(str(path), "--mapping", "nope", "--sync")

    assert error is not None
    assert "Unknown column mapping 'nope'. Valid presets: mall, online_retail_ii" in str(error)
    assert ImportBatch.objects.count() == 0


def test_a_missing_file_is_refused(tmp_path):
    _, error = run(str(tmp_path / "absent.csv"), "--sync")

    assert error is not None
    assert "no such file" in str(error)


def _file_totals(path: Path) -> dict[str, dict[tuple, Decimal]]:
    """Totals computed from the CSV itself, with csv and Decimal only."""
    totals: dict[str, dict[tuple, Decimal]] = {"mall": defaultdict(Decimal), "category": defaultdict(Decimal)}
    totals["month"] = defaultdict(Decimal)
    totals["gross"] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            net = Decimal(row["price"]) - Decimal(row["discount"])
            _day, month, year = (int(part) for part in row["invoice_date"].split("/"))
            totals["mall"][(row["shopping_mall"],)] += net
            totals["category"][(row["category"],)] += net
            totals["month"][(year, month)] += net
            totals["gross"][(row["shopping_mall"], row["category"], year, month)] += Decimal(row["price"])
    return totals


def test_done_when_a_100k_row_file_gives_the_files_totals_per_mall_category_and_month(tmp_path):
    path = demo_rows_write(tmp_path / "mall_100k.csv", rows=100_000, seed=11, return_share=0.02)
    expected = _file_totals(path)

    out, error = run(str(path), "--sync", "--json", "--no-refit")

    assert error is None, out
    assert json.loads(out)["imported"] == 100_000
    lines = TransactionLine.objects.all()
    by_mall = {(r["store__name"],): r["net"] for r in lines.values("store__name").annotate(net=Sum("net_amount"))}
    by_category = {
        (r["category__name"],): r["net"] for r in lines.values("category__name").annotate(net=Sum("net_amount"))
    }
    by_month = {
        (r["month"].year, r["month"].month): r["net"]
        for r in lines.annotate(month=TruncMonth("date")).values("month").annotate(net=Sum("net_amount"))
    }
    gross = {
        (r["store__name"], r["category__name"], r["month"].year, r["month"].month): r["gross"]
        for r in lines.annotate(month=TruncMonth("date"))
        .values("store__name", "category__name", "month")
        .annotate(gross=Sum("gross_amount"))
    }
    assert len(by_mall) == 10
    assert by_mall == dict(expected["mall"])
    assert by_category == dict(expected["category"])
    assert by_month == dict(expected["month"])
    assert gross == dict(expected["gross"])


def test_the_output_says_when_every_row_takes_the_default_store(tmp_path):
    path = tmp_path / "one_shop.csv"
    header = "invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date\n"
    path.write_text(header + "I1,C1,Female,28,Toys,1,5.00,Cash,5/8/2022\nI2,C2,Male,30,Toys,1,6.00,Cash,6/8/2022\n")

    out, error = run(str(path), "--sync", "--no-refit")

    assert error is None
    assert "warning: No store column ('shopping_mall' is not in the file): all 2 rows filed under 'Main store'." in (
        out.splitlines()
    )
    assert ImportBatch.objects.get().warnings == [
        "No store column ('shopping_mall' is not in the file): all 2 rows filed under 'Main store'."
    ]
