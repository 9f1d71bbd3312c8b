"""The column-mapping editor end to end: a CDNOW-like file (customer_id, invoice_date, quantity,
price) uploaded, its columns and formats proposed, previewed, saved as a mapping and imported from
the form by a real qcluster worker."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from analytics.models import ColumnMapping, ImportBatch, TransactionLine
from tests.browser.conftest import assert_charts_drawn, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow_sample.txt"


def cdnow_like_csv(path: Path, *, lines: int) -> Path:
    """The first lines of the CDNOW sample (id, customer, yyyymmdd, CDs, dollars) as the CSV a shop
    would export: customer_id,invoice_date,quantity,price, the price being the line's dollars."""
    rows = ["customer_id,invoice_date,quantity,price"]
    for line in CDNOW.read_text().splitlines()[:lines]:
        _, customer, day, quantity, dollars = line.split()
        rows.append(f"C{customer},{day[:4]}-{day[4:6]}-{day[6:]},{quantity},{dollars}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.worker
def test_a_cdnow_like_file_is_mapped_and_imported_from_the_form(
    media_root, live_server, staff, qcluster_worker, desktop_page, tmp_path: Path
) -> None:
    cache.clear()
    page, problems = desktop_page
    upload = cdnow_like_csv(tmp_path / "cdnow_export.csv", lines=500)
    sign_in(page, live_server.url, "staff1", "pw-staff1")
    page.goto(live_server.url + "/imports/")
    page.get_by_role("link", name="Make a mapping for it").click()

    page.get_by_label("A CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Read the file").click()
    page.wait_for_url(re.compile(r"/imports/mappings/new/\?file=[0-9a-f]{32}$"))

    # Every column found from its header, the formats from the data.
    expected = {"customer_id": "customer", "invoice_date": "date", "quantity": "quantity", "price": "price"}
    for column, field in expected.items():
        assert page.get_by_label(column, exact=True).input_value() == field
    assert page.get_by_label("Dates are written").input_value() == "ymd"
    assert page.get_by_label("The price is").input_value() == "line_amount"
    # The dry run, on the first 20 rows: CDNOW's first line, 2 CDs for $29.33.
    first = page.locator('#preview-table tr[data-row="2"]')
    assert first.get_attribute("data-outcome") == "line"
    assert "1 Jan 1997" in first.inner_text() and "₺29.33" in first.inner_text() and "₺14.67" in first.inner_text()
    assert page.locator('#preview-table tr[data-outcome="line"]').count() == 20

    # A wrong choice shows in the preview before anything is saved.
    page.get_by_label("The price is").select_option("unit_price")
    page.get_by_role("button", name="Preview the first 20 rows").click()
    page.wait_for_selector("#preview-table")
    assert "₺58.66" in page.locator('#preview-table tr[data-row="2"]').inner_text()  # 2 x 29.33
    page.get_by_label("The price is").select_option("line_amount")

    page.get_by_label("Name", exact=True).fill("cdnow")
    page.get_by_role("button", name="Save and import cdnow_export.csv").click()
    page.wait_for_url(re.compile(r"/imports/#batch-\d+$"))
    assert "Mapping 'cdnow' saved; import #" in page.locator(".messages").inner_text()
    screenshot(page, "mapping-editor-imported-desktop")

    batch = ImportBatch.objects.get()
    deadline = time.monotonic() + 180
    while batch.status not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        batch.refresh_from_db()
    assert batch.status == "succeeded", f"{batch.message}\n{qcluster_worker.log()[-3000:]}"
    assert (batch.mapping_name, batch.source, batch.rows_read, batch.imported) == ("cdnow", "web", 500, 500)
    assert ColumnMapping.objects.get(name="cdnow").mapping["columns"]["date"] == "invoice_date"
    assert TransactionLine.objects.filter(batch_id=batch.id, customer__external_id="C0001").count() == 4
    assert len(list((media_root / "mapping-files").iterdir())) == 1  # the upload, kept for the editor

    # The page shows the batch as done, labelled as an upload from this page.
    page.goto(live_server.url + "/imports/")
    row = page.locator(f"#batch-{batch.pk}")
    assert row.get_attribute("data-status") == "succeeded"
    assert f"Imports page · {staff.get_username()}" in row.inner_text()
    page.goto(live_server.url + "/")
    assert_charts_drawn(page)
    assert "Jan 1997" in page.locator(".page-header").inner_text()
    assert problems.errors == []
