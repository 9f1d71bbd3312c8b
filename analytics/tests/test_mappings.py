"""The column-mapping format (pure: no database)."""

from __future__ import annotations

import pytest

from analytics.mappings import PRESETS, MappingError, header_resolve, mapping_parse, preset_get


def test_presets_parse_with_their_documented_choices():
    mall = preset_get("mall")
    online = preset_get("online_retail_ii")

    assert mall is not None and online is not None
    assert (mall.price_is, mall.date_format, mall.discount_is) == ("line_amount", "dmy", "amount")
    assert mall.columns["store"] == "shopping_mall"
    assert (online.price_is, online.return_invoice_prefix, online.columns["store"]) == ("unit_price", "C", "Country")
    assert online.defaults["category"] == "All products"
    assert preset_get("nope") is None
    assert set(PRESETS) == {"mall", "online_retail_ii"}


def test_defaults_fill_what_a_mapping_leaves_out():
    spec = mapping_parse('{"columns": {"customer": "c", "date": "d", "price": "p"}}')

    assert (spec.price_is, spec.discount_is, spec.cost_is, spec.date_format) == (
        "line_amount",
        "amount",
        "line_amount",
        "auto",
    )
    assert spec.defaults == {"store": "Main store", "category": "Uncategorised", "payment_method": "Unknown"}
    assert spec.return_invoice_prefix is None


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("not json", "not valid JSON"),
        ([], "must be a JSON object"),
        ({}, "needs 'columns'"),
        ({"columns": {"customer": "c", "date": "d"}}, "price missing"),
        ({"columns": {"customer": "c", "date": "d", "price": "p"}, "price_is": "unit_price"}, "quantity missing"),
        (
            {"columns": {"customer": "c", "date": "d", "price": "p", "colour": "x"}},
            "Unknown fields in 'columns': colour",
        ),
        ({"columns": {"customer": "c", "date": "d", "price": ""}}, "non-empty header"),
        ({"columns": {"customer": "c", "date": "d", "price": "p"}, "date_format": "dd.mm"}, "'date_format' must be"),
        ({"columns": {"customer": "c", "date": "d", "price": "p"}, "discount_is": "percent"}, "'discount_is' must be"),
        ({"columns": {"customer": "c", "date": "d", "price": "p"}, "defaults": {"colour": "x"}}, "'defaults' takes"),
        ({"columns": {"customer": "c", "date": "d", "price": "p"}, "extra": 1}, "Unknown mapping keys: extra"),
    ],
)
def test_invalid_mappings_say_what_is_wrong(mapping, message):
    with pytest.raises(MappingError, match=message):
        mapping_parse(mapping)


def test_header_matching_ignores_case_spaces_and_a_byte_order_mark():
    spec = mapping_parse({"columns": {"customer": "Customer ID", "date": "Date", "price": "Amount", "store": "Shop"}})

    resolved = header_resolve(spec, ["\ufeffcustomer id ", "DATE", "amount", "Note", "note", ""])

    assert resolved.positions == {"customer": 0, "date": 1, "price": 2}
    assert resolved.missing_required == ()
    assert resolved.unknown == ("Note",)
    assert resolved.duplicate_headers == ("note",)


def test_missing_required_columns_are_named_with_their_header():
    spec = preset_get("mall")
    assert spec is not None

    resolved = header_resolve(spec, ["invoice_no", "gender", "price"])

    assert resolved.missing_required == (("customer", "customer_id"), ("date", "invoice_date"))


def test_ignored_columns_are_not_reported_as_unknown():
    spec = preset_get("online_retail_ii")
    assert spec is not None

    resolved = header_resolve(
        spec, ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
    )

    assert resolved.unknown == ()
    assert resolved.missing_required == ()
