import re

import pytest
from django.test import Client

from analytics.tests.views.conftest import add_line
from retail_platform.tests.pages import assert_no_inline_script, signed_in_client


def _kpi(html: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}"><dt>[^<]+</dt><dd>([^<]+)</dd><dd class="kpi-note">([^<]+)</dd>', html)
    assert match, f"KPI {name} missing"
    return f"{match.group(1)} | {match.group(2)}"


def _store_rows(html: str) -> list[tuple[str, str]]:
    table = html.split('id="store-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row">([^<]+)</th>\s*<td class="num">([^<]+)</td>', table)


@pytest.mark.django_db
def test_overview_shows_the_key_figures_formatted_for_people(viewer: Client, sales: None) -> None:
    response = signed_in_client(viewer).get("/")
    html = response.content.decode()

    assert response.status_code == 200
    assert _kpi(html, "gross") == "₺280 | ₺280.00"
    assert _kpi(html, "net") == "₺260 | ₺260.00"
    assert _kpi(html, "discount") == "₺20 | 7.1\u00a0% of gross"
    assert _kpi(html, "transactions") == "3 | 4 units"
    assert _kpi(html, "customers") == "2 | with a purchase"
    assert _kpi(html, "basket") == "₺86.67 | net sales per transaction"
    assert _kpi(html, "repeat") == "50.0\u00a0% | 88.5\u00a0% of net sales"


@pytest.mark.django_db
def test_overview_store_table_lists_stores_by_net_sales_with_a_caption(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/").content.decode()
    assert '<caption id="store-table-caption">Sales per store, highest net sales first</caption>' in html
    assert _store_rows(html) == [("Kanyon", "₺210.00"), ("Metrocity", "₺50.00")]


@pytest.mark.django_db
def test_overview_passes_each_chart_as_json_for_the_static_script(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/").content.decode()
    for key in ("stores", "over-time"):
        assert f'data-figure="figure-{key}"' in html
        assert f'<script id="figure-{key}" type="application/json">' in html
    assert "/static/vendor/plotly/plotly-cartesian.min.js" in html
    assert "/static/js/charts.js" in html
    assert_no_inline_script(html)


@pytest.mark.django_db
def test_store_filter_in_the_query_string_changes_the_numbers(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/?store=Kanyon").content.decode()
    assert _kpi(html, "net") == "₺210 | ₺210.00"
    assert _kpi(html, "transactions") == "2 | 3 units"
    # C1 bought once in Kanyon: nobody repeats there.
    assert _kpi(html, "repeat").startswith("0.0\u00a0%")
    assert _store_rows(html) == [("Kanyon", "₺210.00")]
    assert '<input type="checkbox" name="store" value="Kanyon" checked> Kanyon' in html
    assert '<span id="f-store-summary">Kanyon</span>' in html
    assert "(filtered)" in html


@pytest.mark.django_db
def test_date_and_category_filters_combine(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/?date_from=2023-02-01&date_to=2023-02-28&category=Books").content.decode()
    assert _kpi(html, "net") == "₺80 | ₺80.00"
    assert 'name="date_from" value="2023-02-01"' in html
    assert 'name="date_to" value="2023-02-28"' in html


@pytest.mark.django_db
def test_unreadable_filter_is_explained_and_all_sales_are_shown(viewer, sales) -> None:
    response = signed_in_client(viewer).get("/?date_from=2023-13-01")
    html = response.content.decode()
    assert response.status_code == 200
    assert "date_from must be a date written YYYY-MM-DD" in html
    assert "Showing all sales instead." in html
    assert _kpi(html, "net") == "₺260 | ₺260.00"


@pytest.mark.django_db
def test_filter_that_matches_nothing_says_so_and_offers_to_clear(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/?date_from=2024-01-01").content.decode()
    assert "No sales match these filters" in html
    assert 'data-kpi="net"' not in html
    assert "plotly-cartesian.min.js" not in html


@pytest.mark.django_db
def test_empty_database_tells_staff_to_import_a_file(staff) -> None:
    html = signed_in_client(staff).get("/").content.decode()
    assert "No sales yet" in html
    assert 'href="/imports/">Import a file</a>' in html
    assert "plotly-cartesian.min.js" not in html


@pytest.mark.django_db
def test_empty_database_tells_a_viewer_who_imports(viewer) -> None:
    html = signed_in_client(viewer).get("/").content.decode()
    assert "No sales yet" in html
    assert "ask an administrator" in html


@pytest.mark.django_db
def test_names_from_imported_data_are_escaped(viewer, sales) -> None:
    import datetime

    from analytics.warehouse import warehouse_rebuild

    add_line(
        invoice="X1", customer="C9", store="<script>alert(1)</script>", category="Books",
        day=datetime.date(2023, 2, 1), quantity=1, unit="1000", discount="0",
    )  # fmt: skip
    warehouse_rebuild()

    html = signed_in_client(viewer).get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the table and the store filter
    assert "\\u003Cscript\\u003Ealert(1)" in html  # inside the chart's JSON
    assert_no_inline_script(html)


@pytest.mark.django_db
def test_a_cached_overview_renders_in_a_handful_of_queries(viewer, sales, django_assert_max_num_queries) -> None:
    client = signed_in_client(viewer)
    client.get("/")
    with django_assert_max_num_queries(12):
        assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_the_store_filter_takes_several_stores(viewer, sales) -> None:
    html = signed_in_client(viewer).get("/?store=Kanyon&store=Metrocity").content.decode()
    assert _store_rows(html) == [("Kanyon", "₺210.00"), ("Metrocity", "₺50.00")]
    assert '<input type="checkbox" name="store" value="Kanyon" checked>' in html
    assert '<input type="checkbox" name="store" value="Metrocity" checked>' in html
    assert '<span id="f-store-summary">2 stores</span>' in html
    assert '<span id="f-category-summary">All categories</span>' in html
