from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import FILTERS, Line, store_lines
from analytics.warehouse import SalesFilter, overview_get, payment_method_list, store_performance_list

pytestmark = pytest.mark.django_db


def test_dataset_has_what_the_definitions_are_about(sales_lines: list[Line]) -> None:
    # Without these the exactness tests below could pass with naive sums.
    by_transaction = ref.group([line for line in sales_lines if not line.is_return], lambda line: line.transaction)
    assert any(len({line.category for line in group}) > 1 for group in by_transaction.values())
    assert any(len({line.payment_method for line in group}) > 1 for group in by_transaction.values())
    assert ref.customer_types(sales_lines)["repeat"]["customers"] >= 5
    assert ref.customer_types(sales_lines)["one_time"]["customers"] >= 3
    assert {line.date.year for line in sales_lines} == {2021, 2022, 2023}
    assert any(line.is_return for line in sales_lines)
    assert any(line.discount for line in sales_lines)


@pytest.mark.parametrize("name", FILTERS)
def test_overview_equals_the_lines(sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    expected = ref.totals(lines)

    overview = overview_get(sales_filter=FILTERS[name])

    assert overview.gross_sales == expected["gross_sales"]
    assert overview.discount == expected["discount"]
    assert overview.net_sales == expected["net_sales"]
    assert overview.units == expected["units"]
    assert overview.transactions == expected["transactions"]
    assert overview.customers == expected["customers"]
    assert overview.avg_basket == expected["avg_basket"]
    assert overview.first_date == (min(line.date for line in lines) if lines else None)
    assert overview.last_date == (max(line.date for line in lines) if lines else None)


def test_overview_of_nothing_is_zero() -> None:
    overview = overview_get(sales_filter=SalesFilter())
    assert (overview.net_sales, overview.transactions, overview.customers, overview.avg_basket) == (
        Decimal("0.00"),
        0,
        0,
        None,
    )


@pytest.mark.parametrize("name", FILTERS)
def test_store_performance_equals_the_lines_per_store(sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    per_store = ref.group(lines, lambda line: line.store)
    total_net = sum((line.net for line in lines), Decimal(0))

    rows = store_performance_list(sales_filter=FILTERS[name])

    assert [row.store for row in rows] == sorted(per_store, key=lambda s: (-ref.totals(per_store[s])["net_sales"], s))
    for row in rows:
        expected = ref.totals(per_store[row.store])
        assert (row.gross_sales, row.discount, row.net_sales, row.units) == (
            expected["gross_sales"],
            expected["discount"],
            expected["net_sales"],
            expected["units"],
        )
        assert (row.transactions, row.customers, row.avg_basket) == (
            expected["transactions"],
            expected["customers"],
            expected["avg_basket"],
        )
        assert row.share_of_sales == pytest.approx(float(expected["net_sales"] / total_net))


@pytest.mark.parametrize("name", FILTERS)
def test_payment_methods_equal_the_lines(sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    per_method = ref.group(lines, lambda line: line.payment_method)
    transactions = ref.payment_method_transactions(lines)
    total_net = sum((line.net for line in lines), Decimal(0))

    rows = payment_method_list(sales_filter=FILTERS[name])

    assert {row.payment_method for row in rows} == set(per_method)
    assert [row.net_sales for row in rows] == sorted((row.net_sales for row in rows), reverse=True)
    for row in rows:
        expected = ref.totals(per_method[row.payment_method])
        assert (row.gross_sales, row.discount, row.net_sales, row.units) == (
            expected["gross_sales"],
            expected["discount"],
            expected["net_sales"],
            expected["units"],
        )
        assert row.transactions == transactions.get(row.payment_method, 0)
        assert row.share_of_sales == pytest.approx(float(expected["net_sales"] / total_net))


def test_store_filter_with_a_name_unknown_to_the_data_matches_nothing(sales_lines: list[Line]) -> None:
    assert store_performance_list(sales_filter=SalesFilter(stores=("Nowhere",))) == ()


def test_results_follow_a_new_import_and_are_cached_in_between(
    sales_lines: list[Line], django_assert_num_queries
) -> None:
    before = overview_get(sales_filter=SalesFilter())
    with django_assert_num_queries(1):  # the data version; the answer comes from the cache
        assert overview_get(sales_filter=SalesFilter()) == before

    extra = ref.generate_lines(seed=99)[:5]
    extra = [
        Line(
            f"X{n}",
            *[getattr(line, f) for f in ("customer", "store", "category", "payment_method")],
            datetime.date(2023, 3, 1),
            line.quantity,
            line.unit_price,
            line.gross,
            line.discount,
            line.net,
            line.cost,
        )
        for n, line in enumerate(extra)
    ]
    store_lines(extra)

    after = overview_get(sales_filter=SalesFilter())
    assert after.net_sales == ref.totals(sales_lines + extra)["net_sales"]
    assert after.transactions == ref.totals(sales_lines + extra)["transactions"]
