"""The import pipeline on good input: what lands in the tables, duplicates, returns, layouts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import Category, Customer, ImportBatch, PaymentMethod, Store, TransactionLine
from analytics.tests.services.conftest import MALL_HEADER, mall_csv

pytestmark = pytest.mark.django_db

ROW_1 = "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon"
ROW_2 = "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,28/12/2021,Forum Istanbul"
ROW_3 = "I3,C1,Female,28,Books,1,15.15,Cash,6/8/2022,Kanyon"


def line(invoice: str) -> TransactionLine:
    return TransactionLine.objects.get(invoice_no=invoice)


def test_mall_rows_become_lines_with_day_first_dates_and_price_as_the_line_amount(run_import):
    batch = run_import(mall_csv(ROW_1, ROW_2))

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert (batch.rows_read, batch.imported, batch.rejected, batch.duplicates) == (2, 2, 0, 0)
    first = line("I1")
    assert first.date == dt.date(2022, 8, 5)
    assert first.quantity == 5
    assert first.gross_amount == Decimal("1500.40")
    assert first.unit_price == Decimal("300.0800")
    assert first.net_amount == Decimal("1500.40")
    assert first.discount_amount == Decimal("0.00")
    assert first.cost is None
    assert first.is_return is False
    assert first.batch_id == batch.id
    assert (first.store.name, first.category.name, first.payment_method.name) == ("Kanyon", "Clothing", "Credit Card")
    assert (first.customer.external_id, first.customer.gender, first.customer.age) == ("C1", "Female", 28)
    assert line("I2").date == dt.date(2021, 12, 28)
    assert set(batch.timings) == {"read", "validate", "load", "aggregates"}


def test_reimporting_the_same_file_is_a_no_op_that_counts_duplicates(run_import):
    content = mall_csv(ROW_1, ROW_2)
    run_import(content)

    again = run_import(content, name="sales-again.csv")

    assert again.status == ImportBatch.Status.SUCCEEDED
    assert (again.rows_read, again.imported, again.rejected, again.duplicates) == (2, 0, 0, 2)
    assert "already imported" in again.message
    assert TransactionLine.objects.count() == 2


def test_an_overlapping_daily_export_adds_only_the_new_lines(run_import):
    run_import(mall_csv(ROW_1, ROW_2), name="day1.csv")

    day_2 = run_import(mall_csv(ROW_2, ROW_3), name="day2.csv")

    assert (day_2.rows_read, day_2.imported, day_2.duplicates) == (2, 1, 1)
    assert sorted(TransactionLine.objects.values_list("invoice_no", flat=True)) == ["I1", "I2", "I3"]


def test_identical_lines_within_one_file_both_count_and_stay_once_on_reimport(run_import):
    content = mall_csv(ROW_1, ROW_1, ROW_1, ROW_2)

    first = run_import(content)
    again = run_import(content, name="again.csv")

    assert (first.imported, first.duplicates) == (4, 0)
    assert TransactionLine.objects.filter(invoice_no="I1").count() == 3
    assert (again.imported, again.duplicates) == (0, 4)
    assert TransactionLine.objects.count() == 4


def test_negative_quantities_are_returns_that_reduce_net_sales(run_import):
    batch = run_import(mall_csv(ROW_1, "R1,C1,Female,28,Clothing,-2,600.16,Cash,7/8/2022,Kanyon"))

    assert batch.imported == 2
    returned = line("R1")
    assert returned.is_return is True
    assert returned.quantity == -2
    assert returned.gross_amount == Decimal("-600.16")
    assert returned.net_amount == Decimal("-600.16")
    assert returned.unit_price == Decimal("300.0800")
    total = sum(TransactionLine.objects.values_list("net_amount", flat=True))
    assert total == Decimal("900.24")


def test_zero_amounts_are_valid_free_items(run_import):
    batch = run_import(
        mall_csv("F1,C5,Male,40,Toys,2,0,Cash,1/1/2022,Kanyon", "F2,C5,Male,40,Toys,0,0.00,Cash,1/1/2022,Kanyon")
    )

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert batch.imported == 2
    assert line("F1").gross_amount == Decimal("0.00")
    assert line("F1").unit_price == Decimal("0")
    assert line("F2").quantity == 0


def test_discount_and_cost_columns_are_read_when_present(run_import):
    header = MALL_HEADER + ",discount,cost"
    batch = run_import(
        mall_csv(
            "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon,150.04,825.22",
            "R1,C1,Female,28,Clothing,-1,-300.08,Credit Card,6/8/2022,Kanyon,-30.01,-165.04",
            header=header,
        )
    )

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    sale = line("I1")
    assert (sale.discount_amount, sale.net_amount, sale.cost) == (
        Decimal("150.04"),
        Decimal("1350.36"),
        Decimal("825.22"),
    )
    refund = line("R1")
    assert (refund.gross_amount, refund.discount_amount, refund.net_amount) == (
        Decimal("-300.08"),
        Decimal("-30.01"),
        Decimal("-270.07"),
    )
    assert refund.cost == Decimal("-165.04")


def test_latin1_file_with_semicolons_imports_with_its_accents(run_import):
    content = mall_csv(
        "I1;C1;Female;28;Clothing;1;300.08;Cash;5/8/2022;Café Mall",
        header=MALL_HEADER_SEMICOLON,
    )

    batch = run_import(content.encode("latin-1"))

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert line("I1").store.name == "Café Mall"
    assert "Latin-1" in " ".join(batch.warnings)


MALL_HEADER_SEMICOLON = (
    "invoice_no;customer_id;gender;age;category;quantity;price;payment_method;invoice_date;shopping_mall"
)


def test_utf8_file_with_a_byte_order_mark_and_crlf_line_ends_imports(run_import):
    content = ("\ufeff" + mall_csv(ROW_1, "I9,C9,Female,30,Clothing,1,300.08,Cash,9/8/2022,İstinye Park")).replace(
        "\n", "\r\n"
    )

    batch = run_import(content.encode("utf-8"))

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert batch.imported == 2
    assert line("I9").store.name == "İstinye Park"
    assert batch.warnings == []


def test_unknown_extra_columns_are_ignored_with_a_warning(run_import):
    header = MALL_HEADER + ",loyalty_tier"
    batch = run_import(mall_csv(ROW_1 + ",gold", header=header))

    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert batch.imported == 1
    assert batch.warnings == ["Column 'loyalty_tier' is not in the mapping 'mall' and was ignored."]


def test_online_retail_ii_preset_reads_unit_prices_iso_dates_and_cancellations(run_import):
    content = (
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n"
        "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia\n"
    )

    batch = run_import(content, mapping_name="online_retail_ii")

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert batch.warnings == [
        "No category column: all 2 rows filed under 'All products'.",
        "No payment method column: all 2 rows filed under 'Unknown'.",
    ]
    sale = line("489434")
    assert (sale.date, sale.quantity, sale.unit_price, sale.gross_amount) == (
        dt.date(2009, 12, 1),
        12,
        Decimal("6.9500"),
        Decimal("83.40"),
    )
    assert sale.store.name == "United Kingdom"
    assert sale.category.name == "All products"
    assert sale.payment_method.name == "Unknown"
    cancelled = line("C489449")
    assert cancelled.is_return is True
    assert (cancelled.quantity, cancelled.gross_amount, cancelled.net_amount) == (
        -12,
        Decimal("-35.40"),
        Decimal("-35.40"),
    )


def test_a_json_mapping_without_invoice_column_groups_a_customers_day_into_one_invoice(run_import):
    mapping = {
        "columns": {"customer": "client", "date": "day", "price": "unit", "quantity": "qty"},
        "price_is": "unit_price",
        "date_format": "ymd",
    }
    content = "client,day,qty,unit\nA7,2023-01-02,2,10.50\nA7,2023-01-02,1,3\nB8,2023-01-02,1,4\n"

    batch = run_import(content, mapping_name="custom", mapping=mapping)

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    invoices = sorted(TransactionLine.objects.values_list("invoice_no", "gross_amount"))
    assert invoices == [
        ("A7/2023-01-02", Decimal("3.00")),
        ("A7/2023-01-02", Decimal("21.00")),
        ("B8/2023-01-02", Decimal("4.00")),
    ]
    assert Store.objects.get().name == "Main store"
    assert Category.objects.get().name == "Uncategorised"
    assert PaymentMethod.objects.get().name == "Unknown"
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["A7", "B8"]


def test_mapping_options_decimal_comma_discount_fraction_unit_cost_and_month_first_dates(run_import):
    mapping = {
        "columns": {
            "invoice": "Beleg",
            "customer": "Kunde",
            "date": "Datum",
            "price": "Preis",
            "quantity": "Menge",
            "discount": "Rabatt",
            "cost": "Einkauf",
            "category": "Gruppe",
        },
        "price_is": "unit_price",
        "discount_is": "fraction",
        "cost_is": "unit_price",
        "date_format": "mdy",
        "decimal_separator": ",",
    }
    content = "Beleg;Kunde;Datum;Menge;Preis;Rabatt;Einkauf;Gruppe\nB1;K1;12/31/2022;3;1.234,50;0,1;800;\n"

    batch = run_import(content, mapping_name="custom", mapping=mapping)

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    sale = line("B1")
    assert sale.date == dt.date(2022, 12, 31)
    assert (sale.unit_price, sale.gross_amount) == (Decimal("1234.5000"), Decimal("3703.50"))
    assert (sale.discount_amount, sale.net_amount) == (Decimal("370.35"), Decimal("3333.15"))
    assert sale.cost == Decimal("2400.00")
    assert sale.category.name == "Uncategorised"


def test_a_discount_fraction_above_one_is_refused(run_import):
    mapping = {
        "columns": {"customer": "c", "date": "d", "price": "p", "discount": "r"},
        "discount_is": "fraction",
    }

    batch = run_import("c,d,p,r\nA,1/2/2022,10,1.5\n", mapping_name="custom", mapping=mapping)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors == [
        {"row": 2, "column": "r", "value": "1.5", "reason": "not a discount fraction between 0 and 1"}
    ]


def test_a_file_whose_latin1_bytes_come_late_is_read_as_latin1(run_import):
    rows = [f"I{n},C{n % 50},Female,28,Clothing,1,300.08,Cash,5/8/2022,Kanyon" for n in range(6000)]
    content = mall_csv(*rows).encode("ascii") + "L1,C1,Female,28,Clothing,1,300.08,Cash,5/8/2022,Café\n".encode(
        "latin-1"
    )

    batch = run_import(content)

    assert len(content) > 256 * 1024
    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert batch.imported == 6001
    assert line("L1").store.name == "Café"
    assert "Latin-1" in " ".join(batch.warnings)


def test_blank_lines_and_quoted_cells_with_line_breaks_are_read(run_import):
    content = mall_csv(ROW_1, "", 'I7,C7,Male,33,Books,1,15.15,Cash,5/8/2022,"Kanyon\nWest"', ROW_2) + "\n"

    batch = run_import(content)

    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert batch.imported == 3
    assert line("I7").store.name == "Kanyon\nWest"


def test_a_second_delivery_that_waited_for_the_lock_finds_the_batch_done(media, monkeypatch):
    import io

    from analytics.services import import_batches

    batch = import_batches.import_batch_create(
        path_or_file=io.BytesIO(mall_csv(ROW_1).encode()), file_name="a.csv", source="api", enqueue=False
    )
    real_lock = import_batches.data_write_lock

    def lock_then_find_it_done() -> None:
        real_lock()
        # Meanwhile the first delivery finished the batch and released the lock.
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.SUCCEEDED, imported=1)

    monkeypatch.setattr(import_batches, "data_write_lock", lock_then_find_it_done)

    again = import_batches.import_batch_run(batch_id=batch.pk)

    assert again.status == ImportBatch.Status.SUCCEEDED
    assert again.imported == 1
    assert TransactionLine.objects.count() == 0
