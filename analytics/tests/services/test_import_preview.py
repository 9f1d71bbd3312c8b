"""The mapping editor's dry run: the real pipeline on the first rows, paired with the file's rows,
and nothing left behind."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from analytics.mapping_sample import sample_read
from analytics.mappings import preset_get
from analytics.services.import_preview import import_preview_run
from analytics.tests.services.conftest import mall_csv, table_counts
from retail_platform.errors import ApplicationError
from retail_platform.locks import data_write_lock

pytestmark = pytest.mark.django_db

ROWS = (
    "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
    "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,12/12/2021,Forum Istanbul",
    "I3,C3,Male,20,Clothing,1,abc,Cash,9/11/2021,Metrocity",
    "I4,C4,Female,66,Toys,-2,-40.00,Cash,31/4/2022,Kanyon",
    "I5,C5,Female,30,Books,2,30.00,Cash,1/1/2023,Kanyon",
)


def _preview(content: str, spec=None):
    sample = sample_read(content.encode(), file_name="sales.csv")
    return import_preview_run(sample=sample, spec=spec or preset_get("mall"))


def test_each_row_shows_the_line_the_import_makes_of_it_or_its_errors() -> None:
    preview = _preview(mall_csv(*ROWS))

    assert (preview.rows_read, preview.imported, preview.rejected, preview.duplicates) == (5, 3, 2, 0)
    assert [row.row for row in preview.rows] == [2, 3, 4, 5, 6]
    first = preview.rows[0].line
    assert first is not None
    assert (first.date, first.customer, first.invoice, first.store, first.category) == (
        datetime.date(2022, 8, 5), "C1", "I1", "Kanyon", "Clothing",
    )  # fmt: skip
    # mall's price is the line amount: 1500.40 for five units, 300.08 each.
    assert (first.quantity, first.unit_price, first.gross, first.net) == (
        5, Decimal("300.0800"), Decimal("1500.40"), Decimal("1500.40"),
    )  # fmt: skip
    assert preview.rows[1].line is not None and preview.rows[1].line.date == datetime.date(2021, 12, 12)
    bad_price, bad_date = preview.rows[2], preview.rows[3]
    assert bad_price.line is None and [error["column"] for error in bad_price.errors] == ["price"]
    assert bad_date.line is None and bad_date.errors[0]["value"] == "31/4/2022"
    assert preview.rows[4].line is not None and preview.rows[4].line.category == "Books"


def test_the_dry_run_leaves_every_table_as_it_was(run_import) -> None:
    run_import(mall_csv(ROWS[0]))
    before = table_counts()

    _preview(mall_csv(*ROWS))

    assert table_counts() == before


def test_rows_already_imported_show_as_duplicates(run_import) -> None:
    run_import(mall_csv(ROWS[0], ROWS[1]))
    preview = _preview(mall_csv(*ROWS))
    assert [row.duplicate for row in preview.rows] == [True, True, False, False, False]
    assert preview.duplicates == 2 and preview.imported == 1


def test_a_missing_required_column_is_the_files_refusal() -> None:
    preview = _preview("customer_id,invoice_date\nC1,5/8/2022\n")
    assert "required column missing" in preview.failure
    assert preview.imported == 0 and all(row.line is None for row in preview.rows)


def test_only_the_first_twenty_rows_are_read() -> None:
    rows = [f"I{n},C{n},Female,28,Clothing,1,10.00,Cash,5/8/2022,Kanyon" for n in range(50)]
    preview = _preview(mall_csv(*rows))
    assert preview.rows_read == 20 and len(preview.rows) == 20


@pytest.mark.django_db(transaction=True)
def test_while_an_import_holds_the_data_write_lock_the_preview_says_so(monkeypatch) -> None:
    from analytics.services import import_preview

    monkeypatch.setattr(import_preview, "PREVIEW_LOCK_SECONDS", 1)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            data_write_lock()
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(ApplicationError, match="An import or a segment refit is running") as raised:
            _preview(mall_csv(ROWS[0]))
        assert raised.value.status == 409
    finally:
        release.set()
        thread.join()
    assert _preview(mall_csv(ROWS[0])).imported == 1  # and once it is free, the preview runs
