from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from analytics import models
from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import FILTERS, Line
from analytics.warehouse import SalesFilter, customer_category_nets_get

pytestmark = pytest.mark.django_db


def _nets_by_name(nets) -> dict[tuple[str, str], int]:
    customers = dict(models.Customer.objects.values_list("pk", "external_id"))
    categories = dict(models.Category.objects.values_list("pk", "name"))
    found = {
        (customers[int(customer)], categories[int(category)]): int(cents)
        for customer, category, cents in zip(nets.customer_ids, nets.category_ids, nets.net_cents, strict=True)
    }
    assert len(found) == len(nets.customer_ids), "one entry per customer and category"
    return found


def _expected(lines: list[Line]) -> dict[tuple[str, str], int]:
    nets: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        nets[(line.customer, line.category)] += line.net
    return {key: int(net * 100) for key, net in nets.items()}


def test_every_customers_net_per_category_from_the_summaries_equals_the_lines(sales_lines: list[Line]) -> None:
    expected = _expected(sales_lines)
    assert any(cents < 0 for cents in expected.values()), "the dataset has a customer whose returns outweigh"

    assert _nets_by_name(customer_category_nets_get()) == expected
    assert _nets_by_name(customer_category_nets_get(sales_filter=SalesFilter())) == expected


@pytest.mark.parametrize("name", FILTERS)
def test_nets_per_customer_and_category_under_a_filter_equal_the_lines(sales_lines: list[Line], name: str) -> None:
    expected = _expected(ref.scoped(sales_lines, FILTERS[name]))

    assert _nets_by_name(customer_category_nets_get(sales_filter=FILTERS[name])) == expected


def test_no_customers_no_nets(db: None) -> None:
    nets = customer_category_nets_get()

    assert (len(nets.customer_ids), len(nets.category_ids), len(nets.net_cents)) == (0, 0, 0)
