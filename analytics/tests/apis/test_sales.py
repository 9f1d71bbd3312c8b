from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import FILTERS, Line
from analytics.warehouse import SalesFilter

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/overview",
    "/api/performance/stores",
    "/api/insights/seasonality",
    "/api/insights/discount-impact",
    "/api/customers/repeat-vs-onetime",
    "/api/insights/payment-methods",
]


def query(sales_filter: SalesFilter) -> str:
    params: list[tuple[str, str]] = []
    if sales_filter.date_from:
        params.append(("date_from", sales_filter.date_from.isoformat()))
    if sales_filter.date_to:
        params.append(("date_to", sales_filter.date_to.isoformat()))
    params += [("store", name) for name in sales_filter.stores]
    params += [("category", name) for name in sales_filter.categories]
    return "?" + urlencode(params) if params else ""


def get(client: APIClient, path: str, sales_filter: SalesFilter) -> dict:
    response = client.get(path + query(sales_filter))
    assert response.status_code == 200, response.content
    return response.json()


def amount(value: Decimal | None) -> str | None:
    """Money as the API writes it: a decimal string with two places."""
    return None if value is None else str(ref.cents(value))


def share(part: Decimal, whole: Decimal) -> float | None:
    return float(part / whole) if whole else None


@pytest.mark.parametrize("name", FILTERS)
def test_overview_equals_the_lines(viewer_client: APIClient, sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    expected = ref.totals(lines)

    body = get(viewer_client, "/api/overview", FILTERS[name])

    assert body == {
        "gross_sales": amount(expected["gross_sales"]),
        "discount": amount(expected["discount"]),
        "net_sales": amount(expected["net_sales"]),
        "transactions": expected["transactions"],
        "units": expected["units"],
        "customers": expected["customers"],
        "avg_basket": amount(expected["avg_basket"]),
        "first_date": min(line.date for line in lines).isoformat() if lines else None,
        "last_date": max(line.date for line in lines).isoformat() if lines else None,
    }


@pytest.mark.parametrize("name", FILTERS)
def test_store_performance_equals_the_lines(viewer_client: APIClient, sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    total_net = sum((line.net for line in lines), Decimal(0))
    expected = []
    for store, store_lines in ref.group(lines, lambda line: line.store).items():
        totals = ref.totals(store_lines)
        expected.append(
            {
                "store": store,
                "gross_sales": amount(totals["gross_sales"]),
                "discount": amount(totals["discount"]),
                "net_sales": amount(totals["net_sales"]),
                "transactions": totals["transactions"],
                "units": totals["units"],
                "customers": totals["customers"],
                "avg_basket": amount(totals["avg_basket"]),
                "share_of_sales": pytest.approx(share(totals["net_sales"], total_net)),
            }
        )
    expected.sort(key=lambda row: (-Decimal(row["net_sales"]), row["store"]))

    assert get(viewer_client, "/api/performance/stores", FILTERS[name]) == {"results": expected}


@pytest.mark.parametrize("name", FILTERS)
def test_seasonality_equals_the_lines(viewer_client: APIClient, sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])

    def rows(key_name: str, months: int, key) -> list[dict]:
        grouped = ref.group(lines, key)
        return [
            {
                "start": period["start"].isoformat(),
                "gross_sales": amount(ref.totals(grouped.get(period["label"], []))["gross_sales"]),
                "net_sales": amount(ref.totals(grouped.get(period["label"], []))["net_sales"]),
                "transactions": ref.totals(grouped.get(period["label"], []))["transactions"],
                "days_covered": period["days_covered"],
                "days_in_period": period["days_in_period"],
                "partial": period["days_covered"] < period["days_in_period"],
                key_name: period["label"],
            }
            for period in ref.covered_periods(sales_lines, FILTERS[name], months=months)
        ]

    body = get(viewer_client, "/api/insights/seasonality", FILTERS[name])

    assert body["monthly"] == rows("month", 1, lambda line: f"{line.date:%Y-%m}")
    assert body["quarterly"] == rows("quarter", 3, lambda line: f"{line.date.year}-Q{(line.date.month - 1) // 3 + 1}")
    assert body["month_of_year"] == [
        {
            "month": month,
            "avg_net_sales": amount(sum(entry["complete"], Decimal(0)) / len(entry["complete"]))
            if entry["complete"]
            else None,
            "years": len(entry["complete"]),
            "partial_years_left_out": entry["left_out"],
        }
        for month, entry in sorted(ref.month_of_year(sales_lines, FILTERS[name]).items())
    ]
    assert "left out" in body["month_of_year_method"]


@pytest.mark.parametrize("name", FILTERS)
def test_discount_impact_equals_the_lines(viewer_client: APIClient, sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    expected = []
    for category, category_lines in ref.group(lines, lambda line: line.category).items():
        totals = ref.totals(category_lines)
        full_cost = all(line.cost is not None for line in category_lines)
        cost = sum((line.cost for line in category_lines), Decimal(0)) if full_cost else None
        margin = totals["net_sales"] - cost if cost is not None else None
        expected.append(
            {
                "category": category,
                "gross_sales": amount(totals["gross_sales"]),
                "discount": amount(totals["discount"]),
                "net_sales": amount(totals["net_sales"]),
                "discount_rate": pytest.approx(share(totals["discount"], totals["gross_sales"])),
                "units": totals["units"],
                "cost": amount(cost),
                "margin": amount(margin),
                "margin_rate": pytest.approx(share(margin, totals["net_sales"])) if margin is not None else None,
            }
        )
    expected.sort(key=lambda row: (-Decimal(row["net_sales"]), row["category"]))

    body = get(viewer_client, "/api/insights/discount-impact", FILTERS[name])

    assert body == {"has_discounts": True, "has_cost": True, "categories": expected}


@pytest.mark.parametrize("name", FILTERS)
def test_repeat_vs_onetime_equals_the_lines(viewer_client: APIClient, sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    total_net = sum((line.net for line in lines), Decimal(0))
    types = ref.customer_types(lines)

    body = get(viewer_client, "/api/customers/repeat-vs-onetime", FILTERS[name])

    assert body == {
        "results": [
            {
                "customer_type": kind,
                "customers": types[kind]["customers"],
                "transactions": types[kind]["transactions"],
                "net_sales": amount(types[kind]["net_sales"]),
                "share_of_sales": pytest.approx(share(types[kind]["net_sales"], total_net)),
            }
            for kind in ("repeat", "one_time")
        ]
    }


@pytest.mark.parametrize("name", FILTERS)
def test_payment_methods_equal_the_lines(viewer_client: APIClient, sales_lines: list[Line], name: str) -> None:
    lines = ref.scoped(sales_lines, FILTERS[name])
    total_net = sum((line.net for line in lines), Decimal(0))
    transactions = ref.payment_method_transactions(lines)
    expected = []
    for method, method_lines in ref.group(lines, lambda line: line.payment_method).items():
        totals = ref.totals(method_lines)
        expected.append(
            {
                "payment_method": method,
                "gross_sales": amount(totals["gross_sales"]),
                "discount": amount(totals["discount"]),
                "net_sales": amount(totals["net_sales"]),
                "transactions": transactions.get(method, 0),
                "units": totals["units"],
                "share_of_sales": pytest.approx(share(totals["net_sales"], total_net)),
            }
        )
    expected.sort(key=lambda row: (-Decimal(row["net_sales"]), row["payment_method"]))

    assert get(viewer_client, "/api/insights/payment-methods", FILTERS[name]) == {"results": expected}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_paths_answer_with_and_without_trailing_slash(
    viewer_client: APIClient, sales_lines: list[Line], path: str
) -> None:
    assert viewer_client.get(path).json() == viewer_client.get(path + "/").json()


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ("date_from=2022-02-31", "date_from must be a date written YYYY-MM-DD, not '2022-02-31'."),
        ("date_to=31/12/2022", "date_to must be a date written YYYY-MM-DD, not '31/12/2022'."),
        ("date_from=2022-06-01&date_to=2022-05-01", "date_from (2022-06-01) is after date_to (2022-05-01)."),
        (
            "store=Kanyon&store=Atlantis",
            "Unknown store: Atlantis. Valid store values: Kanyon, Metrocity, Zorlu Center.",
        ),
        ("category=Food", "Unknown category: Food. Valid category values: Books, Clothing, Shoes, Toys."),
    ],
)
def test_bad_filters_get_400_with_the_reason(
    viewer_client: APIClient, sales_lines: list[Line], path: str, params: str, reason: str
) -> None:
    response = viewer_client.get(f"{path}?{params}")

    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400
    assert response.json()["error"]["message"] == reason


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_callers_get_a_json_error_and_no_data(
    anon_client: APIClient, sales_lines: list[Line], path: str
) -> None:
    response = anon_client.get(path)

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_signed_in_user_without_a_role_is_refused(django_user_model, sales_lines: list[Line], path: str) -> None:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("norole", password="x"))

    response = client.get(path)

    assert response.status_code == 403
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_token_authentication_works(django_user_model, sales_lines: list[Line], viewer, path: str) -> None:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    assert client.get(path).status_code == 200


# A filter nobody asked for: the data version and the JSON looked up, the data version and the answer
# looked up, the aggregate queries (two each), the answer and the JSON stored; +3 when the answer names
# stores, categories or payment methods (read once per data version and process).
MISS_QUERIES = {
    "/api/overview": 6 + 2 + 1,  # and the days the data covers (a range to its last day: customers from summaries)
    "/api/performance/stores": 6 + 2 + 3,
    "/api/insights/seasonality": 6 + 2 + 1,  # and the days the data covers
    "/api/insights/discount-impact": 6 + 2 + 3,
    "/api/customers/repeat-vs-onetime": 6 + 2,
    "/api/insights/payment-methods": 6 + 2 + 3,
}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_query_count_is_fixed_and_a_cached_answer_reads_only_the_data_version(
    viewer_client: APIClient, sales_lines: list[Line], path: str, django_assert_num_queries
) -> None:
    cache.clear()
    # +1: the viewer's groups (the permission check).
    with django_assert_num_queries(MISS_QUERIES[path] + 1):
        first = viewer_client.get(path + "?date_from=2022-01-01").json()
    # The viewer's groups are remembered on the (forced) user object now: only the data version is read.
    with django_assert_num_queries(1):
        assert viewer_client.get(path + "?date_from=2022-01-01").json() == first
    # Another process (an empty local cache) reads the answer the first one stored.
    cache.clear()
    with django_assert_num_queries(2):
        assert viewer_client.get(path + "?date_from=2022-01-01").json() == first


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_cached_answer_sends_the_first_answers_bytes_and_indents_when_asked(
    viewer_client: APIClient, sales_lines: list[Line], path: str
) -> None:
    cache.clear()
    first = viewer_client.get(path + "?date_from=2022-01-01")

    again = viewer_client.get(path + "?date_from=2022-01-01")
    indented = viewer_client.get(path + "?date_from=2022-01-01", HTTP_ACCEPT="application/json; indent=2")

    assert again.content == first.content
    assert again["Content-Type"] == "application/json"
    assert indented.content.startswith(b"{\n  ")
    assert json.loads(indented.content) == first.json()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unfiltered_answers_are_precomputed_by_the_import(
    viewer_client: APIClient, sales_lines: list[Line], path: str, django_assert_max_num_queries
) -> None:
    cache.clear()
    # Data version and rendered answer looked up, then the precomputed selector answer read (no
    # aggregate query), and the rendered answer stored.
    with django_assert_max_num_queries(5 + 1) as queries:
        assert viewer_client.get(path).status_code == 200
    assert not any("analytics_salesdaily" in query["sql"] for query in queries.captured_queries)
