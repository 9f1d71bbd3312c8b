from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from analytics.tests import factories
from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import FILTERS, Line
from analytics.warehouse import SalesFilter, discount_impact_get, warehouse_rebuild

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", FILTERS)
def test_discount_impact_per_category_equals_the_lines(sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    per_category = ref.group(lines, lambda line: line.category)

    result = discount_impact_get(sales_filter=FILTERS[name])

    assert result.has_discounts is True
    assert result.has_cost is True
    assert {row.category for row in result.categories} == set(per_category)
    for row in result.categories:
        category_lines = per_category[row.category]
        expected = ref.totals(category_lines)
        assert (row.gross_sales, row.discount, row.net_sales, row.units) == (
            expected["gross_sales"],
            expected["discount"],
            expected["net_sales"],
            expected["units"],
        )
        assert row.discount_rate == pytest.approx(float(expected["discount"] / expected["gross_sales"]))
        if all(line.cost is not None for line in category_lines):
            cost = sum((line.cost for line in category_lines), Decimal(0))
            assert (row.cost, row.margin) == (cost, expected["net_sales"] - cost)
            assert row.margin_rate == pytest.approx(float((expected["net_sales"] - cost) / expected["net_sales"]))
        else:
            assert (row.cost, row.margin, row.margin_rate) == (None, None, None)


def test_books_have_no_margin_because_some_lines_lack_a_cost(sales_lines: list[Line]) -> None:
    rows = {row.category: row for row in discount_impact_get(sales_filter=SalesFilter()).categories}
    assert rows["Books"].cost is None
    assert rows["Shoes"].margin is not None


def test_data_without_discounts_or_cost_says_so_and_invents_nothing() -> None:
    factories.TransactionLineFactory.create_batch(
        3, category=factories.CategoryFactory(name="Toys"), date=datetime.date(2022, 1, 5), unit_price=Decimal("9.99")
    )
    warehouse_rebuild()

    result = discount_impact_get(sales_filter=SalesFilter())

    assert (result.has_discounts, result.has_cost) == (False, False)
    (row,) = result.categories
    assert (row.gross_sales, row.discount, row.net_sales, row.discount_rate) == (
        Decimal("29.97"),
        Decimal("0.00"),
        Decimal("29.97"),
        0.0,
    )
    assert (row.cost, row.margin) == (None, None)
