"""The editor's reading of a sample and its proposals, on small hand-built files (no database)."""

from __future__ import annotations

import pytest

from analytics.mapping_editor import mapping_build, mapping_propose, missing_required
from analytics.mapping_sample import PREVIEW_ROWS, SampleError, sample_read
from analytics.mappings import mapping_parse

CDNOW_LIKE = b"customer_id,invoice_date,quantity,price\n" + b"".join(
    f"C{n:04d},1997-0{1 + n % 9}-{10 + n % 18},{q},{14.5 * q + n % 7:.2f}\n".encode()
    for n, q in zip(range(60), [1, 2, 1, 3, 1, 2] * 10, strict=True)
)
MALL_LIKE = (
    b"invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall,discount\n"
    b"I138884,C241288,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon,0.1\n"
    b"I317333,C111565,Male,21,Shoes,3,1800.51,Debit Card,12/12/2021,Forum Istanbul,0\n"
    b"I127801,C266599,Male,20,Clothing,1,300.08,Cash,9/11/2021,Metrocity,0.25\n"
)
RETAIL_II_QUANTITIES = (1, 12, 1, 24)
RETAIL_II_PRICES = (6.95, 0.85, 6.75, 1.25)
RETAIL_II_LIKE = (
    b"Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    + b"".join(
        f"{489434 + n},85048,LIGHT,{RETAIL_II_QUANTITIES[n % 4]},2009-12-01 07:45,{RETAIL_II_PRICES[n % 4]},"
        "13085,United Kingdom\n".encode()
        for n in range(16)
    )
    + b"C489449,22087,PAPER,-12,2009-12-01 10:33,2.95,16321,Australia\n"
)


def _propose(data: bytes):
    sample = sample_read(data, file_name="f.csv")
    return sample, mapping_propose(sample)


def test_a_cdnow_like_file_gets_every_column_and_its_price_read_as_the_line_amount() -> None:
    sample, proposal = _propose(CDNOW_LIKE)
    assert sample.header == ["customer_id", "invoice_date", "quantity", "price"]
    assert proposal.fields == ("customer", "date", "quantity", "price")
    assert (proposal.date_format, proposal.decimal_separator) == ("ymd", ".")
    # Lines of several units cost about that many times a single unit: the price is the line's.
    assert proposal.price_is == "line_amount"
    assert "the price is the line's amount" in proposal.reasons["price_is"]


def test_the_mall_layout_reads_day_first_and_a_discount_between_0_and_1_as_a_fraction() -> None:
    _, proposal = _propose(MALL_LIKE)
    assert proposal.fields == (
        "invoice", "customer", "gender", "age", "category", "quantity", "price", "payment_method", "date", "store",
        "discount",
    )  # fmt: skip
    # 5/8, 12/12 and 9/11: no part above 12, so the order is not certain and `auto` reads day-first.
    assert proposal.date_format == "auto"
    assert proposal.discount_is == "fraction"


def test_an_online_retail_layout_reads_unit_prices_and_the_return_prefix() -> None:
    _, proposal = _propose(RETAIL_II_LIKE)
    assert proposal.fields == ("invoice", "", "", "quantity", "date", "price", "customer", "store")
    assert proposal.price_is == "unit_price"
    assert proposal.return_invoice_prefix == "C"
    assert proposal.date_format == "ymd"


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["5/8/2022", "25/8/2022"], "dmy"),
        (["5/8/2022", "8/25/2022"], "mdy"),
        (["5/8/2022", "6/9/2022"], "auto"),
        (["2022-08-05"], "ymd"),
    ],
)
def test_the_date_format_is_read_from_the_dates(dates: list[str], expected: str) -> None:
    data = "customer,date,price\n" + "".join(f"C{i},{day},1.00\n" for i, day in enumerate(dates))
    assert _propose(data.encode())[1].date_format == expected


def test_a_semicolon_file_with_decimal_commas_and_a_rate_column() -> None:
    data = b"klant;datum;bedrag;korting_rate\nK1;05-08-2022;1.234,50;0,1\nK2;25-08-2022;12,5;0\n"
    sample, proposal = _propose(data)
    assert sample.delimiter == ";"
    assert proposal.decimal_separator == ","
    # Unknown headers: the dates are found from their values; the rest is left to the person.
    assert proposal.fields == ("", "date", "", "")


def test_the_dry_run_gets_the_files_own_first_rows_even_with_a_line_break_inside_quotes() -> None:
    rows = b"".join(f'C{n},2022-01-0{1 + n % 9},"a\nb",1.00\n'.encode() for n in range(30))
    sample = sample_read(b"customer,date,note,price\n" + rows, file_name="f.csv")
    assert len(sample.rows) == 30 and len(sample.shown_rows) == PREVIEW_ROWS
    assert sample.preview_bytes.count(b"\n") == 1 + 2 * PREVIEW_ROWS  # header, then two per quoted row
    assert sample.preview_bytes.endswith(b'C19,2022-01-02,"a\nb",1.00\n')


def test_an_empty_or_binary_file_is_refused_as_the_import_would() -> None:
    with pytest.raises(SampleError, match="empty"):
        sample_read(b"", file_name="f.csv")
    with pytest.raises(SampleError, match="not a text file \\(it contains binary data\\)"):
        sample_read(b"\x00\x01\x02" * 100, file_name="f.csv")


def test_the_built_mapping_is_a_valid_one_that_ignores_the_unmapped_columns() -> None:
    mapping = mapping_build(
        header=["customer_id", "invoice_date", "quantity", "price", "note"],
        fields=["customer", "date", "quantity", "price", ""],
        options={
            "date_format": "ymd",
            "decimal_separator": ".",
            "price_is": "line_amount",
            "discount_is": "amount",
            "cost_is": "line_amount",
            "return_invoice_prefix": "",
        },
        defaults={"store": "Online", "category": "", "payment_method": ""},
    )
    spec = mapping_parse(mapping)
    assert spec.columns == {"customer": "customer_id", "date": "invoice_date", "quantity": "quantity", "price": "price"}
    assert spec.ignore_columns == ("note",)
    assert spec.defaults == {"store": "Online", "category": "Uncategorised", "payment_method": "Unknown"}
    assert spec.return_invoice_prefix is None


def test_required_fields_depend_on_what_the_price_means() -> None:
    assert missing_required(["customer", "date", "price"], "line_amount") == []
    assert missing_required(["customer", "date", "price"], "unit_price") == ["quantity"]
    assert missing_required(["date"], "line_amount") == ["customer", "price"]
