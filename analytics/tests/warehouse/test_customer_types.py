from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import FILTERS, Line
from analytics.warehouse import SalesFilter, customer_type_list

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", FILTERS)
def test_repeat_and_one_time_customers_equal_the_lines(sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    expected = ref.customer_types(lines)
    total_net = sum((line.net for line in lines), Decimal(0))

    rows = customer_type_list(sales_filter=FILTERS[name])

    assert [row.customer_type for row in rows] == ["repeat", "one_time"]
    for row in rows:
        wanted = expected[row.customer_type]
        assert (row.customers, row.transactions, row.net_sales) == (
            wanted["customers"],
            wanted["transactions"],
            wanted["net_sales"],
        )
        if total_net:
            assert row.share_of_sales == pytest.approx(float(wanted["net_sales"] / total_net))
        else:
            assert row.share_of_sales is None


def test_a_customer_with_only_returns_is_neither_type_and_their_returns_are_not_attributed(
    sales_lines: list[Line],
) -> None:
    # C999's only line is a return on 2022-05-03 at Kanyon.
    day = SalesFilter(date_from=datetime.date(2022, 5, 3), date_to=datetime.date(2022, 5, 3), stores=("Kanyon",))
    lines = ref.scoped(sales_lines, day)
    buyers = {line.customer for line in lines if not line.is_return}
    assert "C999" in {line.customer for line in lines}
    assert "C999" not in buyers

    rows = {row.customer_type: row for row in customer_type_list(sales_filter=day)}

    assert rows["repeat"].customers + rows["one_time"].customers == len(buyers)
    assert rows["repeat"].net_sales + rows["one_time"].net_sales == sum(
        (line.net for line in lines if line.customer in buyers), Decimal(0)
    )
