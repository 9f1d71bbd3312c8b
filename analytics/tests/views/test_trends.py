import re

import pytest

from retail_platform.tests.pages import assert_no_inline_script, signed_in_client


def _rows(html: str, table_id: str) -> list[tuple[str, ...]]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return [
        (name, *re.findall(r'<td class="num">([^<]*)</td>', cells))
        for name, cells in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', table, re.DOTALL)
    ]


@pytest.mark.django_db
def test_trends_page_draws_every_chart_from_json(viewer, sales) -> None:
    response = signed_in_client(viewer).get("/trends/")
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("monthly", "quarterly", "month-of-year", "discounts", "payments"):
        assert f'data-figure="figure-{key}"' in html
        assert f'<script id="figure-{key}" type="application/json">' in html
    assert_no_inline_script(html)


@pytest.mark.django_db
def test_discount_table_shows_gross_discount_and_net_per_category(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/trends/").content.decode()
    assert _rows(html, "discount-table") == [
        ("Shoes", "₺200.00", "₺20.00", "₺180.00", "10.0\u00a0%"),
        ("Books", "₺80.00", "₺0.00", "₺80.00", "0.0\u00a0%"),
    ]


@pytest.mark.django_db
def test_payment_table_lists_each_method_with_its_share(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/trends/").content.decode()
    assert _rows(html, "payment-table") == [("Cash", "₺260.00", "100.0\u00a0%", "3")]


@pytest.mark.django_db
def test_trends_filters_work_like_the_overview(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/trends/?category=Books").content.decode()
    assert _rows(html, "discount-table") == [("Books", "₺80.00", "₺0.00", "₺80.00", "0.0\u00a0%")]
    assert '<input type="checkbox" name="category" value="Books" checked> Books' in html


@pytest.mark.django_db
def test_trends_without_data_asks_for_an_import(viewer) -> None:
    html = signed_in_client(viewer).get("/trends/").content.decode()
    assert "No sales yet" in html
    assert "data-figure" not in html
