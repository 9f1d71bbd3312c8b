from __future__ import annotations

import datetime

import pytest
from django.http import QueryDict

from analytics.tests import factories
from analytics.warehouse import SalesFilter, sales_filter_from_params
from retail_platform.errors import ApplicationError


def parse(query: str) -> SalesFilter:
    return sales_filter_from_params(QueryDict(query))


def test_no_parameters_is_the_empty_filter() -> None:
    assert parse("") == SalesFilter()
    assert parse("").is_empty


@pytest.mark.django_db
def test_parameters_are_read_and_names_sorted_without_duplicates() -> None:
    for name in ("Kanyon", "Metrocity"):
        factories.StoreFactory(name=name)
    factories.CategoryFactory(name="Food & Beverage")

    result = parse(
        "date_from=2022-01-01&date_to=2022-03-31&store=Metrocity&store=Kanyon&store=Kanyon"
        "&category=Food+%26+Beverage&store="
    )

    assert result == SalesFilter(
        date_from=datetime.date(2022, 1, 1),
        date_to=datetime.date(2022, 3, 31),
        stores=("Kanyon", "Metrocity"),
        categories=("Food & Beverage",),
    )


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("date_from=2022-13-01", "date_from must be a date written YYYY-MM-DD"),
        ("date_to=yesterday", "date_to must be a date written YYYY-MM-DD"),
        ("date_from=20220101", "date_from must be a date written YYYY-MM-DD"),
        ("date_from=2022-02-30", "date_from must be a date"),
        ("date_from=2022-01-01&date_from=2022-02-01", "date_from is given more than once"),
        ("date_from=2022-05-01&date_to=2022-04-30", "date_from (2022-05-01) is after date_to (2022-04-30)"),
    ],
)
def test_bad_dates_are_refused_with_the_reason(query: str, reason: str) -> None:
    with pytest.raises(ApplicationError) as error:
        parse(query)
    assert reason in error.value.message
    assert error.value.status == 400


@pytest.mark.django_db
def test_unknown_store_or_category_is_refused_with_the_valid_names() -> None:
    factories.StoreFactory(name="Kanyon")
    factories.CategoryFactory(name="Toys")

    with pytest.raises(ApplicationError) as error:
        parse("store=Kanyon&store=Kanyonn")
    assert error.value.message == "Unknown store: Kanyonn. Valid store values: Kanyon."
    assert error.value.extra == {"store": ["Kanyonn"], "valid_store_values": ["Kanyon"]}

    with pytest.raises(ApplicationError) as error:
        parse("category=Shoes")
    assert error.value.extra["valid_category_values"] == ["Toys"]


def test_cache_key_ignores_name_order() -> None:
    assert SalesFilter(stores=("A", "B")).cache_key == SalesFilter(stores=("B", "A")).cache_key
    assert SalesFilter(stores=("A",)).cache_key != SalesFilter(categories=("A",)).cache_key
