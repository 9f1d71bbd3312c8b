"""The columnar import path stores exactly what the SQL path stores, and leaves to it every file it
cannot read with certainty. Each test imports the same files twice, once with each path (the other
import rolled back), and compares everything the import wrote."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.models import Category, Customer, ImportBatch, PaymentMethod, SalesDaily, Store, TransactionLine
from analytics.services.import_csv import columnar, lines_table
from analytics.tests.services.conftest import DAILY_ROW_FIELDS, mall_csv
from analytics.tests.warehouse.snapshots import assert_read_model_equals_a_rebuild

pytestmark = pytest.mark.django_db

MALL_WITH_MONEY = (
    "invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall,discount,cost"
)
RETAIL_II = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"


class _Rollback(Exception):
    pass


def snapshot() -> dict[str, Any]:
    """Everything an import writes, by names and external ids (database ids differ between runs). The
    lines are read without a join (the transaction that copied them over several connections cannot
    join them with the customers it added, on a Citus cluster) and named here."""
    customer_ids = dict(Customer.objects.values_list("pk", "external_id"))
    names = {model: dict(model.objects.values_list("pk", "name")) for model in (Store, Category, PaymentMethod)}
    rows = TransactionLine.objects.values_list(
        "row_key",
        "invoice_no",
        "customer_id",
        "store_id",
        "category_id",
        "payment_method_id",
        "date",
        "quantity",
        "unit_price",
        "gross_amount",
        "discount_amount",
        "net_amount",
        "cost",
        "is_return",
    )
    lines = sorted(
        (key, invoice, customer_ids[customer], names[Store][store], names[Category][category],
         names[PaymentMethod][method], *rest)
        for key, invoice, customer, store, category, method, *rest in rows
    )  # fmt: skip
    daily = sorted(SalesDaily.objects.values_list(*DAILY_ROW_FIELDS))
    customers = sorted(Customer.objects.values_list("external_id", "gender", "age"))
    return {"lines": lines, "daily": daily, "customers": customers}


def batch_facts(batch: ImportBatch) -> tuple:
    return (
        batch.status,
        batch.rows_read,
        batch.imported,
        batch.rejected,
        batch.duplicates,
        batch.error_count,
        batch.errors,
        batch.message,
        batch.warnings,
    )


@pytest.fixture
def both_paths(run_import, settings) -> Callable[..., tuple[list[ImportBatch], dict[str, Any]]]:
    """Import files in order with the columnar path on, then with it off (each run rolled back);
    check that the tables and the batches' outcomes agree; return the first run's batches and tables."""

    def run(*files: tuple[str | bytes, dict[str, Any]]) -> tuple[list[ImportBatch], dict[str, Any]]:
        runs = []
        for columnar_on in (True, False):
            settings.IMPORT_COLUMNAR = columnar_on
            try:
                with transaction.atomic():
                    batches = [
                        run_import(content, name=f"file{n}.csv", **options)
                        for n, (content, options) in enumerate(files)
                    ]
                    runs.append((batches, snapshot()))
                    assert_read_model_equals_a_rebuild()
                    raise _Rollback
            except _Rollback:
                pass
        (columnar_batches, columnar_state), (sql_batches, sql_state) = runs
        assert [batch_facts(batch) for batch in columnar_batches] == [batch_facts(batch) for batch in sql_batches]
        assert columnar_state == sql_state
        assert all(batch.load_path == ImportBatch.LoadPath.SQL for batch in sql_batches if batch.imported)
        return columnar_batches, columnar_state

    return run


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if ("," in text or '"' in text) else text


def csv_line(*cells: str) -> str:
    return ",".join(csv_cell(cell) for cell in cells)


def paths(batches: list[ImportBatch]) -> list[str]:
    return [batch.load_path for batch in batches]


def test_mall_file_with_returns_discounts_costs_and_repeated_lines_loads_the_same_columnar(both_paths):
    content = mall_csv(
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon,150.04,900.10",
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon,150.04,900.10",
        'I2," C2 ",Male,,"Food & Beverage",3,10.46,Cash,28/12/2021,"Metro, City",0,',
        "I3,C1,,30,Books,-1,-15.15,Cash,6/8/2022,Kanyon,1.50,9.09",
        "I4,C3,Female,45,Toys,2,0,Debit Card,1/1/2023,  Forum  ,,",
        "I5,C3,Male,44,Toys,0,7.005,Debit Card,01/01/2023,Forum,0.004,3.333333",
        "I6,C4,Female,20,Shoes,1,-12.50,Cash,2/1/2023,Kanyon,-2,-1",
        header=MALL_WITH_MONEY,
    )

    columnar_batches, _ = both_paths((content, {}))

    assert paths(columnar_batches) == ["columnar"]
    assert columnar_batches[0].imported == 7


def test_reimports_and_overlapping_exports_count_the_same_duplicates(both_paths):
    day_1 = mall_csv(
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
        "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,28/12/2021,Forum Istanbul",
    )
    day_2 = mall_csv(
        "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,28/12/2021,Forum Istanbul",
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
        "I3,C1,Female,28,Books,1,15.15,Cash,6/8/2022,Kanyon",
    )

    columnar_batches, _ = both_paths((day_1, {}), (day_1, {}), (day_2, {}))

    assert paths(columnar_batches) == ["columnar"] * 3
    assert [(batch.imported, batch.duplicates) for batch in columnar_batches] == [(3, 0), (0, 3), (2, 3)]


def test_online_retail_ii_file_with_unit_prices_and_cancellations_loads_the_same_columnar(both_paths):
    content = "\n".join(
        [
            RETAIL_II,
            "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom",
            "489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom",
            "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia",
            "489436,21523,FANCY FONT HOME SWEET HOME DOORMAT,10,2009-12-01 09:06:00,0.001,13078.0,EIRE",
            "489437,22143,CHRISTMAS CRAFT HEART DECORATIONS,3,2009-12-01 09:08:00,2.1,15362.0,France",
        ]
    )

    columnar_batches, _ = both_paths((content, {"mapping_name": "online_retail_ii"}))

    assert paths(columnar_batches) == ["columnar"]


def test_semicolon_file_without_invoices_with_decimal_commas_and_fractions_loads_the_same_columnar(both_paths):
    mapping = {
        "columns": {
            "customer": "client",
            "date": "day",
            "price": "unit",
            "quantity": "qty",
            "discount": "off",
            "cost": "unit cost",
            "category": "kind",
        },
        "price_is": "unit_price",
        "discount_is": "fraction",
        "cost_is": "unit_price",
        "date_format": "mdy",
        "decimal_separator": ",",
        "defaults": {"store": "Web shop"},
    }
    content = "\n".join(
        [
            "client;day;unit;qty;off;unit cost;kind;note",
            "A-1;8/5/2022;1.234,50;2;0,1;600,25;Garden;x",
            "A-1;8/5/2022;3,99;1;;;Garden;y",
            "B-2;12/31/2021;10;-1;0,25;4,1;;z",
            "B-2;1/2/2022;2,005;3;1;1;Kitchen;",
        ]
    )

    columnar_batches, _ = both_paths((content, {"mapping": mapping}))

    assert paths(columnar_batches) == ["columnar"]
    assert columnar_batches[0].warnings == [
        "Column 'note' is not in the mapping 'given at import' and was ignored.",
        "No store column: all 4 rows filed under 'Web shop'.",
        "No payment method column: all 4 rows filed under 'Unknown'.",
    ]


def test_latin1_file_with_a_byte_order_free_header_loads_the_same_columnar(both_paths):
    content = mall_csv("I1,Çelik,Female,28,Ayakkab\u0131,1,10.00,Cash,5/8/2022,Kanyon").encode("utf-8")
    latin = mall_csv("I1,C\xe9line,Female,28,Caf\xe9,1,10.00,Cash,5/8/2022,Ni\xe7e").encode("latin-1")
    bom = b"\xef\xbb\xbf" + mall_csv("I2,C2,Male,21,Shoes,3,1800.51,Debit Card,28/12/2021,Forum").encode()

    columnar_batches, _ = both_paths((content, {}), (latin, {}), (bom, {}))

    assert paths(columnar_batches) == ["columnar"] * 3
    assert columnar_batches[1].warnings == ["The file is not UTF-8; it was read as Latin-1."]


def test_a_customer_seen_with_several_genders_and_ages_gets_the_greatest_of_each(both_paths):
    content = mall_csv(
        "I1,C1,,28,Clothing,1,10,Cash,5/8/2022,Kanyon",
        "I2,C1,Male,31,Clothing,1,10,Cash,6/8/2022,Kanyon",
        "I3,C1,Female,,Clothing,1,10,Cash,7/8/2022,Kanyon",
        "I4, C1,Other,29,Clothing,1,10,Cash,8/8/2022,Kanyon",
    )

    columnar_batches, state = both_paths((content, {}))

    assert paths(columnar_batches) == ["columnar"]
    assert state["customers"] == [("C1", "Other", 31)]


@pytest.mark.parametrize(
    ("row", "path", "why"),
    [
        ('I1,C1,Female,28,"Cloth\ning",1,10.00,Cash,5/8/2022,Kanyon', "sql", "a line break inside a cell"),
        ('I1,C1,Female,28,Clothing,1,"10.00\n",Cash,5/8/2022,Kanyon', "", "a line break after a number"),
        ('I1,"C""1",Female,28,Clothing,1,10.00,Cash,5/8/2022,Kanyon', "sql", "a quote inside a cell"),
        ("I1,C1,Female,28,Clothing,1,1e3,Cash,5/8/2022,Kanyon", "", "an amount in exponent form"),
        ("I1,C1,Female,28,Clothing,1,+10.00,Cash,5/8/2022,Kanyon", "columnar", "a plus sign"),
        ("I1,C1,Female,28,Clothing,1,1.5e-7,Cash,5/8/2022,Kanyon", "", "an exponent beyond six decimals"),
        ("I1,C1,Female,28,Clothing,1,1_000,Cash,5/8/2022,Kanyon", "", "digits with an underscore"),
        ("I1,C1,Female,28,Clothing,3000000000,1.00,Cash,5/8/2022,Kanyon", "", "a quantity beyond 4 bytes"),
        ("I1,C1,Female,28,Clothing,1,10.1234567,Cash,5/8/2022,Kanyon", "sql", "seven decimals"),
        ("I1,C1,Female,28,Clothing,+2,10.00,Cash,5/8/2022,Kanyon", "sql", "a quantity with a plus sign"),
        ("I1,C1,Female,28,Clothing,1,\t10.00,Cash,5/8/2022,Kanyon", "", "a tab before a number"),
        ("I1,C1,Female,28,Clothing,1,abc,Cash,5/8/2022,Kanyon", "", "an amount that is not a number"),
        ("I1,C1,Female,28,Clothing,1,,Cash,5/8/2022,Kanyon", "", "an empty amount"),
        ("I1,,Female,28,Clothing,1,10.00,Cash,5/8/2022,Kanyon", "", "an empty customer"),
        ("I1,C1,Female,28,Clothing,1,10.00,Cash,31/2/2022,Kanyon", "", "an unreadable date"),
        ("I1,C1,Female,28,Clothing,1,10.00,Cash,5/8/2022,Kanyon,extra", "", "a row with a cell too many"),
        ("I1,C1,Female,28,Clothing,1,10.00,Cash,5/8/2022", "", "a row with a cell too few"),
        ("I1,C1,Female,200,Clothing,1,10.00,Cash,5/8/2022,Kanyon", "", "an age above 150"),
        ("I1,C1,Female,28,Clothing,1,99999999999.00,Cash,5/8/2022,Kanyon", "", "an amount too large"),
        ("I1,C1,Female,28,Clothing,1,10.00,Cash,today,Kanyon", "", "a date word"),
        ("I1,C1,Female,28,Clothing,1,10.00,Cash,5/8/2022," + "K" * 201, "", "a store name too long"),
        ("I1,C1,Female,028,Clothing,1,10.00,Cash,5/8/2022,Kanyon", "columnar", "an age with a leading zero"),
        ("I1,C1,Female, 28,Clothing,1,10.00,Cash, 05/08/2022 ,Kanyon", "columnar", "spaces around a date and an age"),
    ],
)
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_file_with_an_unusual_cell_takes_the_sql_path_with_the_same_outcome(both_paths, row, path, why, skip_invalid):
    """The path is "" where the row is invalid: without skip_invalid nothing is imported (no path),
    with it the SQL path imports the valid row."""
    content = mall_csv("I0,C0,Male,40,Books,1,5.00,Cash,4/8/2022,Kanyon", row)

    columnar_batches, _ = both_paths((content, {"skip_invalid": skip_invalid}))

    expected = path or ("sql" if skip_invalid else "")
    assert paths(columnar_batches) == [expected], why


# A date is a date, or the row is refused (analytics/services/import_csv/dates.py): near-misses of
# the mall mapping's day/month/year, each refused by both paths with its row, column and value.
NEAR_MISS_DATES = [
    ("11/7/20x2", "a letter inside the year"),
    ("1l/7/2022", "a letter l for a one"),
    ("O5/08/2022", "a letter O for a zero"),
    ("5//8/2022", "two separators"),
    ("5/8//2022", "two separators before the year"),
    ("5/8/2022/", "a separator after the year"),
    ("/5/8/2022", "a separator before the day"),
    ("5-8/2022", "two different separators"),
    ("5.8.2022", "points where the format says /"),
    ("5-8-2022", "dashes where the format says /"),
    ("2022-8-5T", "ISO with a T and no time"),
    ("2022-08-05", "ISO where the format is day-first"),
    ("2022/8/5", "year first"),
    ("5/8/2022 25:00", "hour 25"),
    ("5/8/2022 24:00", "hour 24"),
    ("5/8/2022 14:60", "minute 60"),
    ("5/8/2022 14:05:60", "second 60"),
    ("5/8/2022 14", "an hour without minutes"),
    ("5/8/2022 14:5", "one-digit minutes"),
    ("5/8/2022 14:05:09.1234567", "seven decimals of a second"),
    ("5/8/2022T14:05", "a T after a day-first date"),
    ("5/8/2022 2:05 PM", "a 12-hour time"),
    ("5/8/2022 14:05 +03:00", "a time zone"),
    ("5/8/2022 14:05Z", "a time zone letter"),
    ("0/8/2022", "day 0"),
    ("5/0/2022", "month 0"),
    ("5/13/2022", "month 13"),
    ("32/8/2022", "day 32"),
    ("31/4/2022", "31 April"),
    ("29/2/2023", "29 February of a common year"),
    ("29/2/1900", "29 February 1900 (not a leap year)"),
    ("05/08/-2022", "a negative year"),
    ("5/8/202", "a three-digit year"),
    ("5/8/2", "a one-digit year"),
    ("5/8/20222", "a five-digit year"),
    ("005/08/2022", "a three-digit day"),
    ("+5/8/2022", "a signed day"),
    ("5.5/8/2022", "a fractional day"),
    ("5/8/2022.5", "a fractional year"),
    ("44778", "an Excel serial number"),
    ("44778.5", "an Excel serial number with a time"),
    ("5/8", "no year"),
    ("5 8 2022", "spaces as separators"),
    ("5/ 8/2022", "a space inside"),
    ("5/8/2022 extra", "words after the date"),
    ("Fri 5/8/2022", "a weekday before the date"),
    ("5 August 2022", "a month name"),
    ("Aug 5 2022", "a month name first"),
    ("today", "a date word"),
    ("infinity", "PostgreSQL's infinite date"),
    ("epoch", "PostgreSQL's epoch"),
    ("5/8/2022\t", "a tab after the date"),
    ("5/8/2022\u00a0", "a non-breaking space after the date"),
    ("\u0665/\u0668/\u0662\u0660\u0662\u0662", "Arabic-Indic digits"),
    ("1/1/1899", "before 1900"),
    ("1/1/2101", "after 2100"),
]
VALID_DATES = [
    ("5/8/2022", dt.date(2022, 8, 5)),
    ("05/08/2022", dt.date(2022, 8, 5)),
    ("  6/8/2022 ", dt.date(2022, 8, 6)),
    ("7/8/22", dt.date(2022, 8, 7)),
    ("7/8/69", dt.date(2069, 8, 7)),
    ("7/8/70", dt.date(1970, 8, 7)),
    ("8/8/2022 14:05", dt.date(2022, 8, 8)),
    ("9/8/2022 14:05:09", dt.date(2022, 8, 9)),
    ("10/8/2022  7:45", dt.date(2022, 8, 10)),
    ("11/8/2022 23:59:59.123456", dt.date(2022, 8, 11)),
    ("29/2/2024", dt.date(2024, 2, 29)),
    ("1/1/1900", dt.date(1900, 1, 1)),
    ("31/12/2100 00:00", dt.date(2100, 12, 31)),
]


def test_the_near_miss_corpus_has_at_least_forty_dates():
    assert len({cell for cell, _ in NEAR_MISS_DATES}) == len(NEAR_MISS_DATES) >= 40


@pytest.mark.parametrize(("cell", "why"), NEAR_MISS_DATES, ids=[why for _, why in NEAR_MISS_DATES])
def test_a_near_miss_date_is_refused_with_its_row_column_and_value_by_both_paths(both_paths, cell, why):
    content = mall_csv(
        "I0,C0,Male,40,Books,1,5.00,Cash,4/8/2022,Kanyon",
        csv_line("I1", "C1", "Female", "28", "Toys", "1", "10.00", "Cash", cell, "Kanyon"),
    )

    batches, state = both_paths((content, {"skip_invalid": True}))

    assert (batches[0].imported, batches[0].rejected) == (1, 1), why
    (error,) = batches[0].errors
    assert (error["row"], error["column"], error["value"]) == (3, "invoice_date", cell)
    assert error["reason"].startswith("not a readable date (")
    assert [line[6] for line in state["lines"]] == [dt.date(2022, 8, 4)]


def test_a_file_of_near_miss_dates_is_refused_whole_and_every_row_is_reported(both_paths):
    rows = [
        csv_line(f"I{n}", "C1", "Female", "28", "Toys", "1", "10.00", "Cash", cell, "Kanyon")
        for n, (cell, _) in enumerate(NEAR_MISS_DATES)
    ]
    content = mall_csv("I0,C0,Male,40,Books,1,5.00,Cash,4/8/2022,Kanyon", *rows)

    batches, state = both_paths((content, {}))

    assert (batches[0].status, batches[0].imported, batches[0].error_count) == ("failed", 0, len(NEAR_MISS_DATES))
    reported = [(error["row"], error["column"], error["value"]) for error in batches[0].errors]
    assert reported == [(n + 3, "invoice_date", cell) for n, (cell, _) in enumerate(NEAR_MISS_DATES)]
    assert state["lines"] == []


def test_every_valid_way_of_writing_a_date_loads_the_same_day_through_both_paths(both_paths):
    rows = [f"I{n},C{n},Female,28,Toys,1,10.00,Cash,{cell},Kanyon" for n, (cell, _) in enumerate(VALID_DATES)]

    batches, state = both_paths((mall_csv(*rows), {}))

    assert paths(batches) == ["columnar"]
    by_invoice = {line[1]: line[6] for line in state["lines"]}
    assert by_invoice == {f"I{n}": day for n, (_, day) in enumerate(VALID_DATES)}


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_column_empty_on_every_row_is_a_warning_counting_the_rows_filed_under_the_default(both_paths, skip_invalid):
    rows = [f"I{n},C{n},Female,28,,1,5.00,Cash,{n + 1}/8/2022,Kanyon" for n in range(3)]
    if skip_invalid:
        rows.append("I9,C9,Female,28,,1,oops,Cash,9/8/2022,Kanyon")

    batches, _ = both_paths((mall_csv(*rows), {"skip_invalid": skip_invalid}))

    assert batches[0].warnings == ["The category column 'category' is empty: all 3 rows filed under 'Uncategorised'."]


def test_a_column_filled_on_some_rows_is_no_warning(both_paths):
    rows = ["I1,C1,Female,28,Toys,1,5.00,Cash,1/8/2022,Kanyon", "I2,C1,Female,28,,1,5.00,,1/8/2022,"]

    batches, _ = both_paths((mall_csv(*rows), {}))

    assert batches[0].warnings == []


AUTO_MAPPING = {"columns": {"customer": "c", "date": "d", "price": "p"}, "date_format": "auto"}


def test_auto_reads_a_month_first_file_month_first_through_both_paths(both_paths):
    content = "c,d,p\nC1,12/31/2021,1\nC2,1/2/2022 10:00,2\n"

    batches, state = both_paths((content, {"mapping": AUTO_MAPPING}))

    assert paths(batches) == ["columnar"]
    assert sorted(line[6] for line in state["lines"]) == [dt.date(2021, 12, 31), dt.date(2022, 1, 2)]


def test_auto_reads_an_ambiguous_file_day_first_with_the_same_warning_on_both_paths(both_paths):
    batches, state = both_paths(("c,d,p\nC1,5/8/2022,1\nC2,6/8/2022,2\n", {"mapping": AUTO_MAPPING}))

    assert sorted(line[6] for line in state["lines"]) == [dt.date(2022, 8, 5), dt.date(2022, 8, 6)]
    assert batches[0].warnings[0].startswith("Dates were read day-first (d/m/y): no date in the file has a day")


def test_auto_refuses_the_dates_of_a_file_written_in_another_format_than_most(both_paths):
    content = "c,d,p\nC1,2022-08-05,1\nC2,2022-08-06,2\nC3,7/8/2022,3\n"

    batches, _ = both_paths((content, {"mapping": AUTO_MAPPING, "skip_invalid": True}))

    assert (batches[0].imported, batches[0].rejected) == (2, 1)
    assert batches[0].errors == [
        {
            "row": 4,
            "column": "d",
            "value": "7/8/2022",
            "reason": "not a readable date (this file's dates are ISO year-month-day such as 2022-08-05)",
        }
    ]


def test_a_dotted_day_first_format_reads_dotted_dates_through_both_paths(both_paths):
    mapping = {**AUTO_MAPPING, "date_format": "d.m.y"}

    batches, state = both_paths(("c,d,p\nC1,5.8.2022,1\nC2,5/8/2022,2\n", {"mapping": mapping, "skip_invalid": True}))

    assert [line[6] for line in state["lines"]] == [dt.date(2022, 8, 5)]
    assert batches[0].errors[0]["reason"] == "not a readable date (expected day.month.year such as 5.8.2022)"


# The number rule (statements.NUMBER_PATTERNS): an optional sign, digits, and the decimal separator
# followed by digits; nothing PostgreSQL or Arrow would read besides.
NOT_AN_AMOUNT = [
    ("1e3", "an exponent"),
    ("1E3", "a capital exponent"),
    ("1.5e-7", "a negative exponent"),
    ("NaN", "not a number"),
    ("nan", "not a number, lower case"),
    ("Infinity", "infinity"),
    ("-Infinity", "minus infinity"),
    ("inf", "inf"),
    ("1_000", "an underscore"),
    ("0x1A", "hexadecimal"),
    (".5", "no digit before the point"),
    ("5.", "no digit after the point"),
    ("1,000.00", "a thousands comma"),
    ("10.00.00", "two points"),
    ("$10", "a currency sign"),
    ("10 TL", "a currency code"),
    ("10-", "a trailing minus"),
    ("--10", "two minus signs"),
    ("+-10", "two signs"),
    ("\t10", "a tab"),
    ("1 000", "a space inside"),
    ("\u0661\u0660", "Arabic-Indic digits"),
]
NUMBER_FIELDS = {"price": 6, "discount": 10, "cost": 11}
NOT_A_QUANTITY = [
    ("1e3", "an exponent"),
    ("1.0", "a decimal"),
    ("1_000", "an underscore"),
    ("0x10", "hexadecimal"),
    ("NaN", "not a number"),
    ("Infinity", "infinity"),
    ("2147483648", "beyond a 4-byte integer"),
    ("-2147483648", "minus 2^31 (its magnitude is beyond)"),
    ("+-1", "two signs"),
]
NOT_AN_AGE = [("+30", "a sign"), ("-0", "minus zero"), ("30.0", "a decimal"), ("1e1", "an exponent"), ("151", "151")]
GOOD_ROW = ["I1", "C1", "Female", "28", "Toys", "2", "10.00", "Cash", "5/8/2022", "Kanyon", "1.00", "6.00"]


def _row_with(position: int, cell: str) -> str:
    cells = list(GOOD_ROW)
    cells[position] = cell
    return csv_line(*cells)


@pytest.mark.parametrize(
    ("column", "position", "cell", "why"),
    [(field, position, cell, why) for field, position in NUMBER_FIELDS.items() for cell, why in NOT_AN_AMOUNT]
    + [("quantity", 5, cell, why) for cell, why in NOT_A_QUANTITY]
    + [("age", 3, cell, why) for cell, why in NOT_AN_AGE],
)
def test_a_cell_that_is_not_a_number_by_the_rule_is_refused_by_both_paths(both_paths, column, position, cell, why):
    content = mall_csv(csv_line(*GOOD_ROW).replace("I1", "I0"), _row_with(position, cell), header=MALL_WITH_MONEY)

    batches, _ = both_paths((content, {"skip_invalid": True}))

    assert (batches[0].imported, batches[0].rejected) == (1, 1), why
    (error,) = batches[0].errors
    assert (error["row"], error["column"], error["value"]) == (3, column, cell)
    assert error["reason"].startswith("not a"), error["reason"]


@pytest.mark.parametrize(
    ("separator", "cell", "cents"),
    [
        (".", "+10.00", 1000),
        (".", "-10", -1000),
        (".", " 10.5 ", 1050),
        (".", "0010.50", 1050),
        (".", "10.125", 1013),
        (".", "10.12345678901", 1012),
        (".", "9999999999.99", 999999999999),
        (",", "1.234,50", 123450),
        (",", "1234,5", 123450),
        (",", "-1.234.567,891", -123456789),
        (",", "7", 700),
    ],
)
def test_every_valid_way_of_writing_an_amount_loads_the_same_cents_through_both_paths(
    both_paths, separator, cell, cents
):
    mapping = {"columns": {"customer": "c", "date": "d", "price": "p"}, "date_format": "dmy"}
    mapping["decimal_separator"] = separator
    delimiter = ";" if separator == "," else ","

    _, state = both_paths(
        (f"c{delimiter}d{delimiter}p\nC1{delimiter}5/8/2022{delimiter}{cell}\n", {"mapping": mapping})
    )

    (line,) = state["lines"]
    assert line[9] == Decimal(cents) / 100


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("12.34,5", "points not grouping thousands"),
        ("1,234.50", "a point after the comma"),
        ("1.2.3,4", "single digits between points"),
        ("1e3", "an exponent"),
    ],
)
def test_a_decimal_comma_amount_with_points_out_of_place_is_refused_by_both_paths(both_paths, cell, why):
    mapping = {"columns": {"customer": "c", "date": "d", "price": "p"}, "decimal_separator": ","}

    batches, _ = both_paths((f"c;d;p\nC0;5/8/2022;1\nC1;5/8/2022;{cell}\n", {"mapping": mapping, "skip_invalid": True}))

    assert (batches[0].imported, batches[0].rejected) == (1, 1), why
    assert batches[0].errors[0]["value"] == cell


@pytest.mark.parametrize("reading", ["twice", "once, kept"])
def test_a_file_read_in_several_blocks_loads_the_same(both_paths, monkeypatch, reading):
    """Files are read in blocks; big ones twice (they are not kept), small ones once."""
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 256)
    if reading == "twice":
        monkeypatch.setattr(columnar, "KEEP_FILE_BYTES", 300)
    rows = [
        f"I{n % 7},C{n % 5},Female,{20 + n % 9},Cat{n % 3},{n % 4 - 1},{n}.{n % 100:02d},Cash,"
        f"{1 + n % 28}/8/2022,S{n % 2}"
        for n in range(60)
    ]
    content = mall_csv(*rows, *rows[:5])

    columnar_batches, _ = both_paths((content, {}), (mall_csv(*rows[10:30]), {}))

    assert paths(columnar_batches) == ["columnar", "columnar"]
    assert [(batch.imported, batch.duplicates) for batch in columnar_batches] == [(65, 0), (0, 20)]


CELL = st.sampled_from(["", " ", "a", "A b", "Ç", "x,y", "0", "12", "-3", "1.5", "1,5", "007", "+4", "1e2", "é"])
NUMBER = st.one_of(
    st.decimals(min_value=-99999, max_value=99999, places=2, allow_nan=False).map(str),
    st.decimals(min_value=0, max_value=999, places=6, allow_nan=False).map(str),
    st.sampled_from(["", "0", "-0", "00.5", " 7.25", "7.25 ", "1e3", ".5", "5.", "+1", "NaN", "1,000.00"]),
)
DATE = st.one_of(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2110, 1, 1)).map(lambda d: f"{d.day}/{d.month}/{d.year}"),
    st.sampled_from(["2022-08-05", "5/8/22", "05/08/2022", "31/9/2022", "5.8.2022", ""]),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["I1", "I2", "C3", " I4 "]),
            st.sampled_from(["C1", "C2", " C1", "c1"]),
            CELL,
            st.sampled_from(["", "30", "151", "4x"]),
            CELL,
            st.sampled_from(["1", "2", "-1", "0", "", "3.0"]),
            NUMBER,
            NUMBER,
            NUMBER,
            DATE,
        ),
        min_size=1,
        max_size=8,
    ),
    skip_invalid=st.booleans(),
)
def test_generated_files_load_the_same_whichever_path_takes_them(both_paths, rows, skip_invalid):
    lines = [
        csv_line(invoice, customer, gender, age, category, quantity, price, "Cash", day, "Kanyon", discount, cost)
        for invoice, customer, gender, age, category, quantity, price, discount, cost, day in rows
    ]

    both_paths((mall_csv(*lines, header=MALL_WITH_MONEY), {"skip_invalid": skip_invalid}))


CLEAN_NAME = st.text(alphabet="abcXYZ çé-&", min_size=1, max_size=12).filter(lambda text: text.strip() == text)
CLEAN_AMOUNT = st.decimals(min_value=-99999, max_value=99999, places=2, allow_nan=False).map(str)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["I1", "I2", "I3"]),
            st.sampled_from(["C1", "C2", "C3"]),
            st.sampled_from(["Female", "Male", ""]),
            st.sampled_from(["", "30", "45"]),
            CLEAN_NAME,
            st.integers(min_value=-3, max_value=5),
            CLEAN_AMOUNT,
            st.one_of(st.just(""), CLEAN_AMOUNT),
            st.one_of(st.just(""), CLEAN_AMOUNT),
            st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2099, 12, 31)),
            CLEAN_NAME,
        ),
        min_size=1,
        max_size=12,
    )
)
def test_generated_clean_files_take_the_columnar_path_and_load_the_same(both_paths, rows):
    lines = [
        csv_line(
            invoice,
            customer,
            gender,
            age,
            category,
            str(quantity),
            price,
            "Cash",
            f"{day.day}/{day.month}/{day.year}",
            store,
            discount,
            cost,
        )
        for invoice, customer, gender, age, category, quantity, price, discount, cost, day, store in rows
    ]

    columnar_batches, _ = both_paths((mall_csv(*lines, header=MALL_WITH_MONEY), {}))

    assert paths(columnar_batches) == ["columnar"]


@pytest.mark.parametrize(("where", "name"), [(columnar, "lines_compute"), (columnar._CustomersLoad, "write")])
def test_a_fault_in_the_columnar_path_leaves_the_file_to_the_sql_path(run_import, monkeypatch, where, name):
    """A fault on either thread (here the lines, or the customers on the second thread) is rolled
    back and the SQL path imports the whole file."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a fault")

    monkeypatch.setattr(where, name, broken)
    content = mall_csv(
        "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
        "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,28/12/2021,Forum Istanbul",
    )

    batch = run_import(content)

    assert (batch.status, batch.load_path, batch.imported) == (ImportBatch.Status.SUCCEEDED, "sql", 2)
    assert TransactionLine.objects.count() == 2
    assert Customer.objects.count() == 2


def constraints(table: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
            [table],
        )
        return set(cursor.fetchall())


BIG_LOAD = mall_csv(
    *(f"I{n},C{n % 40},Female,{20 + n % 40},Toys,1,{n}.50,Cash,{1 + n % 28}/8/2022,Kanyon" for n in range(120)),
    "I0,C0,Female,20,Toys,1,0.50,Cash,1/8/2022,Kanyon",
)


def big_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every load counts as big next to its table (rolled-back tests leave the table's file grown)."""
    monkeypatch.setattr(lines_table, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(columnar, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(lines_table, "_lines_estimate", lambda cursor: 0)


def test_big_loads_drop_and_rebuild_the_keys_and_load_the_same(both_paths, monkeypatch):
    """A load big next to its table takes the bulk path: the lines', and into an empty customer
    table the customers', primary key and unique constraints are dropped and built again."""
    big_loads(monkeypatch)
    before = {table: constraints(table) for table in ("analytics_transactionline", "analytics_customer")}

    columnar_batches, state = both_paths((BIG_LOAD, {}), (BIG_LOAD, {}))

    assert paths(columnar_batches) == ["columnar", "columnar"]
    assert [(batch.imported, batch.duplicates) for batch in columnar_batches] == [(121, 0), (0, 121)]
    assert len(state["customers"]) == 40
    assert {table: constraints(table) for table in before} == before


def test_a_big_load_that_cannot_lock_its_tables_loads_the_usual_way(run_import, monkeypatch, caplog):
    """While another session reads the tables, the bulk path gives up after its lock wait and the
    rows go in with the keys kept."""
    big_loads(monkeypatch)
    monkeypatch.setattr(lines_table, "BULK_LOCK_WAIT", "100ms")
    monkeypatch.setattr(columnar, "BULK_LOCK_WAIT", "100ms")
    params = connection.get_connection_params()
    keep = ("dbname", "user", "password", "host", "port")
    with psycopg.connect(**{key: value for key, value in params.items() if key in keep}) as reader:
        reader.execute("SELECT count(*) FROM analytics_transactionline")
        reader.execute("SELECT count(*) FROM analytics_customer")  # the reader's locks last its transaction

        with caplog.at_level(logging.INFO, logger="analytics.services.import_csv"):
            batch = run_import(BIG_LOAD)

    assert (batch.status, batch.load_path, batch.imported) == (ImportBatch.Status.SUCCEEDED, "columnar", 121)
    assert "Bulk load of analytics_customer skipped: the table is in use" in caplog.messages
    assert any(message.startswith("Bulk path skipped: the transaction lines are in use") for message in caplog.messages)
    assert Customer.objects.count() == 40
    assert ("analytics_customer_external_id_key", "UNIQUE (external_id)") in constraints("analytics_customer")
    assert ("analytics_transactionline_pkey", "PRIMARY KEY (row_key, customer_id)") in constraints(
        "analytics_transactionline"
    )
