"""End to end: a demo file imported by `import_transactions`, the endpoints compared with the file itself."""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from analytics.demo_data import demo_rows_write
from analytics.tests.apis.test_sales import amount, get
from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import Line
from analytics.warehouse import SalesFilter

pytestmark = pytest.mark.django_db

FILTERS = {
    "none": SalesFilter(),
    "all": SalesFilter(
        date_from=datetime.date(2021, 7, 1),
        date_to=datetime.date(2022, 12, 31),
        stores=("Kanyon", "Mall of Istanbul"),
        categories=("Clothing", "Cosmetics", "Toys"),
    ),
}


def _file_lines(path: Path) -> list[Line]:
    """The file's rows as lines: price is the line amount, discount an amount, dates day-first."""
    lines = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day, month, year = (int(part) for part in row["invoice_date"].split("/"))
            gross, discount = Decimal(row["price"]), Decimal(row["discount"])
            quantity = int(row["quantity"])
            lines.append(
                Line(
                    invoice_no=row["invoice_no"],
                    customer=row["customer_id"],
                    store=row["shopping_mall"],
                    category=row["category"],
                    payment_method=row["payment_method"],
                    date=datetime.date(year, month, day),
                    quantity=quantity,
                    unit_price=gross / quantity if quantity else gross,
                    gross=gross,
                    discount=discount,
                    net=gross - discount,
                    cost=Decimal(row["cost"]) if row["cost"] else None,
                )
            )
    return lines


@pytest.fixture
def imported(tmp_path: Path) -> list[Line]:
    path = demo_rows_write(tmp_path / "demo.csv", rows=3000, customers=700, return_share=0.03)
    call_command("import_transactions", str(path), "--sync", "--no-refit")
    return _file_lines(path)


@pytest.mark.parametrize("name", FILTERS)
def test_endpoints_equal_the_imported_file(viewer_client: APIClient, imported: list[Line], name: str) -> None:
    lines = ref.scoped(imported, FILTERS[name])
    assert len(lines) > 100
    expected = ref.totals(lines)

    overview = get(viewer_client, "/api/overview", FILTERS[name])
    assert (overview["gross_sales"], overview["discount"], overview["net_sales"]) == (
        amount(expected["gross_sales"]),
        amount(expected["discount"]),
        amount(expected["net_sales"]),
    )
    assert (overview["transactions"], overview["customers"], overview["units"]) == (
        expected["transactions"],
        expected["customers"],
        expected["units"],
    )

    stores = {row["store"]: row for row in get(viewer_client, "/api/performance/stores", FILTERS[name])["results"]}
    per_store = ref.group(lines, lambda line: line.store)
    assert set(stores) == set(per_store)
    for store, store_lines in per_store.items():
        totals = ref.totals(store_lines)
        assert (stores[store]["net_sales"], stores[store]["transactions"], stores[store]["customers"]) == (
            amount(totals["net_sales"]),
            totals["transactions"],
            totals["customers"],
        )

    seasonality = get(viewer_client, "/api/insights/seasonality", FILTERS[name])
    per_month = ref.group(lines, lambda line: f"{line.date:%Y-%m}")
    assert {row["month"]: row["net_sales"] for row in seasonality["monthly"]} == {
        month: amount(ref.totals(month_lines)["net_sales"]) for month, month_lines in per_month.items()
    }
    per_quarter = ref.group(lines, lambda line: f"{line.date.year}-Q{(line.date.month - 1) // 3 + 1}")
    assert {row["quarter"]: (row["gross_sales"], row["transactions"]) for row in seasonality["quarterly"]} == {
        quarter: (amount(ref.totals(q_lines)["gross_sales"]), ref.totals(q_lines)["transactions"])
        for quarter, q_lines in per_quarter.items()
    }

    impact = get(viewer_client, "/api/insights/discount-impact", FILTERS[name])
    assert impact["has_discounts"] is True
    per_category = ref.group(lines, lambda line: line.category)
    assert {row["category"]: (row["discount"], row["net_sales"], row["cost"]) for row in impact["categories"]} == {
        category: (
            amount(ref.totals(c_lines)["discount"]),
            amount(ref.totals(c_lines)["net_sales"]),
            amount(sum((line.cost for line in c_lines), Decimal(0))),
        )
        for category, c_lines in per_category.items()
    }

    types = ref.customer_types(lines)
    repeat_vs_onetime = get(viewer_client, "/api/customers/repeat-vs-onetime", FILTERS[name])["results"]
    assert [(row["customers"], row["transactions"], row["net_sales"]) for row in repeat_vs_onetime] == [
        (types[kind]["customers"], types[kind]["transactions"], amount(types[kind]["net_sales"]))
        for kind in ("repeat", "one_time")
    ]
    assert types["repeat"]["customers"] > 0
