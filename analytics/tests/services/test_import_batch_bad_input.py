"""Every rule for bad input: a clear message naming the file, row and column, and nothing changed."""

from __future__ import annotations

import gzip
import random

import pytest

from analytics.models import ImportBatch, Store, TransactionLine
from analytics.services.import_batches import import_batch_create, import_batch_run
from analytics.tests.services.conftest import MALL_HEADER, mall_csv, table_counts

pytestmark = pytest.mark.django_db

GOOD = "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon"
GOOD_2 = "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,6/8/2022,Forum Istanbul"


@pytest.fixture
def existing(run_import) -> dict[str, int]:
    """Some data imported before the bad file, and the row count of every table afterwards."""
    batch = run_import(mall_csv("I0,C0,Male,50,Books,1,15.15,Cash,1/8/2022,Kanyon"), name="earlier.csv")
    assert batch.status == ImportBatch.Status.SUCCEEDED
    counts = table_counts()
    counts.pop("analytics_importbatch")
    return counts


def assert_failed_and_unchanged(batch: ImportBatch, existing: dict[str, int]) -> None:
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.imported == 0
    assert batch.rows_read == batch.imported + batch.rejected + batch.duplicates
    counts = table_counts()
    counts.pop("analytics_importbatch")
    assert counts == existing
    assert batch.message.startswith("bad.csv: ")


def test_a_missing_required_column_names_the_column_and_the_header(run_import, existing):
    header = MALL_HEADER.replace("customer_id,", "")
    batch = run_import(
        mall_csv("I1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon", header=header), name="bad.csv"
    )

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 1, column 'customer_id': required column missing")
    assert "The header has: invoice_no, gender," in batch.message
    assert batch.errors == [
        {
            "row": 1,
            "column": "customer_id",
            "value": "",
            "reason": "required column missing (the customer of each line)",
        }
    ]


def test_an_empty_required_cell_is_reported_with_its_row_and_column(run_import, existing):
    batch = run_import(
        mall_csv(GOOD, "I2,  ,Male,21,Shoes,3,1800.51,Debit Card,6/8/2022,Forum Istanbul"), name="bad.csv"
    )

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 3, column 'customer_id': empty: a customer is required")
    assert batch.errors == [
        {"row": 3, "column": "customer_id", "value": "  ", "reason": "empty: a customer is required"}
    ]
    assert (batch.rows_read, batch.rejected, batch.error_count) == (2, 2, 1)


def test_an_unreadable_date_is_reported(run_import, existing):
    batch = run_import(mall_csv(GOOD, GOOD_2.replace("6/8/2022", "31/2/2022")), name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 3, column 'invoice_date': not a readable date")
    assert "('31/2/2022')" in batch.message
    assert batch.errors[0]["value"] == "31/2/2022"


@pytest.mark.parametrize("date", ["today", "2022-13-01", "5/8", "1/1/1800", "infinity"])
def test_words_and_impossible_dates_are_unreadable(run_import, existing, date):
    batch = run_import(mall_csv(GOOD.replace("5/8/2022", date)), name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.errors[0]["column"] == "invoice_date"
    assert batch.errors[0]["reason"].startswith("not a readable date")


@pytest.mark.parametrize("price", ["12,50", "abc", "NaN", "Infinity", "1e20", "£5"])
def test_a_non_numeric_amount_is_reported(run_import, existing, price):
    batch = run_import(mall_csv(GOOD, GOOD_2.replace("1800.51", f'"{price}"')), name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 3, column 'price': not a number")
    assert batch.errors[0]["value"] == price


def test_a_row_with_more_cells_than_the_header_is_reported(run_import, existing):
    batch = run_import(mall_csv(GOOD, GOOD_2 + ",extra"), name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 3: has 11 cells; the header has 10")
    assert batch.errors == [{"row": 3, "column": "", "value": "", "reason": "has 11 cells; the header has 10"}]


def test_a_row_with_fewer_cells_than_the_header_is_reported(run_import, existing):
    batch = run_import(mall_csv(GOOD, GOOD, "I3,C3,Male", GOOD_2), name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 4: has 3 cells; the header has 10")
    assert batch.rows_read == 4


def test_an_empty_file_is_reported(run_import, existing):
    batch = run_import(b"", name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message == "bad.csv: row 1: the file is empty (no header, no rows)."


def test_a_header_only_file_is_reported(run_import, existing):
    batch = run_import(MALL_HEADER + "\n", name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message == "bad.csv: row 2: the file has a header but no data rows."


def test_binary_garbage_is_reported(run_import, existing):
    garbage = bytes(range(256)) * 40

    batch = run_import(garbage, name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert "bad.csv: row 1: not a text file (it contains binary data); a CSV file is text" in batch.message


def test_a_nul_byte_after_the_first_rows_is_reported_as_binary(run_import, existing):
    content = mall_csv(*([GOOD] * 30000)).encode() + b"I9,C9\x00\x01,Male\n"

    batch = run_import(content, name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert "contains binary data" in batch.message
    assert batch.message.startswith("bad.csv: row 30002")


def test_every_problem_is_listed_and_the_first_thousand_kept(run_import, existing):
    rows = [GOOD.replace("5/8/2022", "99/99/2022").replace("I1", f"I{n}") for n in range(1200)]
    batch = run_import(mall_csv(*rows), name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert (batch.rows_read, batch.rejected, batch.error_count) == (1200, 1200, 1200)
    assert len(batch.errors) == 1000
    assert [error["row"] for error in batch.errors[:3]] == [2, 3, 4]
    assert "And 1199 more problems in 1200 rows." in batch.message


def test_skip_invalid_imports_the_valid_rows_and_reports_the_others(run_import, existing):
    content = mall_csv(
        GOOD,
        GOOD_2.replace("6/8/2022", "nope"),
        "I3,C3,Male",
        "I4,C4,Female,33,Books,2,30.30,Cash,7/8/2022,New Mall",
        "I5,,Female,33,Books,x,30.30,Cash,7/8/2022,Other Mall",
    )

    batch = run_import(content, name="mixed.csv", skip_invalid=True)

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert (batch.rows_read, batch.imported, batch.rejected, batch.duplicates) == (5, 2, 3, 0)
    assert [(e["row"], e["column"]) for e in batch.errors] == [
        (3, "invoice_date"),
        (4, ""),
        (6, "customer_id"),
        (6, "quantity"),
    ]
    assert batch.error_count == 4
    assert sorted(TransactionLine.objects.values_list("invoice_no", flat=True)) == ["I0", "I1", "I4"]
    # Stores named only on rejected rows are not created.
    assert "Other Mall" not in set(Store.objects.values_list("name", flat=True))
    assert "rejected" in batch.message


def test_skip_invalid_with_no_valid_row_fails(run_import, existing):
    batch = run_import(mall_csv("I3,C3,Male"), name="bad.csv", skip_invalid=True)

    assert_failed_and_unchanged(batch, existing)
    assert "No row could be imported" in batch.message


def test_a_quote_left_open_is_reported_with_its_row(run_import, existing):
    batch = run_import(
        mall_csv(GOOD, 'I2,"C2,Male,21,Shoes,3,1800.51,Debit Card,6/8/2022,Forum Istanbul'), name="bad.csv"
    )

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 3")


@pytest.mark.parametrize(
    ("source", "advice"),
    [
        (
            ImportBatch.Source.ADMIN,
            "fix the file, or tick 'Skip invalid rows' and import it again to load the valid rows.",
        ),
        (ImportBatch.Source.COMMAND, "fix the file, or import it with --skip-invalid to load the valid rows."),
        (ImportBatch.Source.API, "fix the file, or send it again with skip_invalid=true to load the valid rows."),
        (
            ImportBatch.Source.INBOX,
            "fix the file, or import it from the Imports page or the admin with 'Skip invalid rows' ticked to load "
            "the valid rows.",
        ),
    ],
)
def test_a_file_refused_for_invalid_rows_says_how_to_skip_them_where_it_came_in(media, tmp_path, source, advice):
    path = tmp_path / "bad.csv"
    path.write_text(mall_csv(GOOD, GOOD_2.replace("6/8/2022", "31/2/2022")))
    batch = import_batch_create(path_or_file=path, file_name="bad.csv", source=source, enqueue=False)

    batch = import_batch_run(batch_id=batch.id, queue_refit=False)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message.endswith(f"Nothing was imported; {advice}")


def _random_bytes(size: int, low: int) -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(low, 256) for _ in range(size))


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (_random_bytes(195 * 1024, 128), "195 KB without a NUL, a control character or a line break"),
        (_random_bytes(300 * 1024, 32).replace(b"\x7f", b"x"), "bytes of every value above 31"),
        (b"PK\x03\x04" + b"sheet,rows\n" * 500, "a zip (an .xlsx) whose first bytes look like text"),
        (b"%PDF-1.7\n" + b"1 0 obj\n" * 500, "a PDF"),
        (gzip.compress(("invoice_no,price\n" + "I1,1\n" * 5000).encode()), "a gzipped CSV"),
    ],
)
def test_a_binary_file_is_said_not_to_be_a_text_file(run_import, existing, content, what):
    batch = run_import(content, name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message.startswith("bad.csv: row 1: not a text file (it contains binary data)"), what
    assert batch.errors == [{"row": 1, "column": "", "value": "", "reason": "binary data, not CSV text"}]


def test_a_windows_1252_file_with_quotes_and_accents_is_text(run_import, existing):
    rows = [f"I{n},C{n},Female,28,Caf\xe9 \x93best\x94 \x96 \x80,1,10.00,Cash,5/8/2022,Kanyon" for n in range(50)]

    batch = run_import(mall_csv(*rows).encode("latin-1"), name="shop.csv")

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert batch.warnings == ["The file is not UTF-8; it was read as Latin-1."]


def test_a_text_file_with_no_line_break_in_its_first_256_kb_says_the_header_is_too_long(run_import, existing):
    batch = run_import("customer_id," * 30000, name="bad.csv")

    assert_failed_and_unchanged(batch, existing)
    assert batch.message == "bad.csv: row 1: the header is missing or longer than 256 KB."
