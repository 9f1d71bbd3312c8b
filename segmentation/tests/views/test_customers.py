import re

import pytest

from retail_platform.tests.pages import assert_no_inline_script, signed_in_client
from segmentation import charts, rfm
from segmentation.services.refit import segmentation_run_create
from segmentation.tests.data import RawLine, build_sales, expected_rfm, load_sales

pytestmark = pytest.mark.django_db

CHARTS = ("segment-sizes", "segment-profile", "rfm-scatter", "rfm-grid-frequency", "rfm-grid-monetary")


@pytest.fixture
def raw() -> list[RawLine]:
    lines = build_sales()
    load_sales(lines)
    return lines


@pytest.fixture
def run(raw: list[RawLine]) -> int:
    created = segmentation_run_create()
    assert created.status == "succeeded", created.message
    return created.pk


def _segment_rows(html: str) -> list[tuple[str, int]]:
    table = html.split('id="segment-table"', 1)[1].split("</table>", 1)[0]
    return [
        (name, int(count.replace(",", "")))
        for name, count in re.findall(
            r'<span class="segment-name">([^<]+)</span>.*?</th>\s*<td class="description">[^<]*</td>\s*'
            r'<td class="num">([^<]+)</td>',
            table,
        )
    ]


def test_without_sales_the_page_asks_for_an_import(staff) -> None:
    html = signed_in_client(staff).get("/customers/").content.decode()
    assert "No customer segments yet" in html
    assert "Import a transaction file" in html
    assert 'href="/imports/"' in html
    assert "data-figure" not in html


def test_with_sales_but_no_run_the_page_asks_for_a_refit(staff, raw) -> None:
    html = signed_in_client(staff).get("/customers/").content.decode()
    assert "Run a refit" in html
    assert 'href="/admin/segmentation/segmentationrun/"' in html


def test_viewer_without_a_run_is_told_who_refits(viewer, raw) -> None:
    html = signed_in_client(viewer).get("/customers/").content.decode()
    assert "ask an administrator to run one" in html


def test_segment_table_accounts_for_every_customer_who_bought(viewer, raw, run) -> None:
    response = signed_in_client(viewer).get("/customers/")
    html = response.content.decode()
    assert response.status_code == 200

    rows = _segment_rows(html)
    assert rows, "segment table is empty"
    assert sum(count for _, count in rows) == len(expected_rfm(raw))
    for key in CHARTS:
        assert f'<script id="figure-{key}" type="application/json">' in html
        assert f'data-figure="figure-{key}"' in html
    assert 'data-figure="figure-category-by-segment"' in html
    assert_no_inline_script(html)


def test_rfm_view_lists_the_eleven_segments_with_their_meaning(viewer, raw, run) -> None:
    html = signed_in_client(viewer).get("/customers/?kind=rfm").content.decode()
    rows = _segment_rows(html)
    assert [name.replace("&#x27;", "'") for name, _ in rows] == list(rfm.SEGMENTS)
    assert sum(count for _, count in rows) == len(expected_rfm(raw))
    assert rfm.SEGMENT_RULES[0].description in html
    assert '<input type="radio" name="kind" value="rfm" checked>' in html


def test_definitions_and_cut_points_are_shown(viewer, raw, run) -> None:
    html = signed_in_client(viewer).get("/customers/").content.decode()
    for text in rfm.DEFINITIONS.values():
        assert text.replace("'", "&#x27;") in html
    table = html.split('id="cut-points"', 1)[1].split("</table>", 1)[0]
    assert [int(score) for score in re.findall(r'<th scope="row">(\d)</th>', table)] == [5, 4, 3, 2, 1]
    # The highest monetary score ends at the largest net amount of any customer.
    top = max(value.monetary for value in expected_rfm(raw).values())
    assert f"₺{top:,.2f}" in table


def test_viewer_sees_aggregates_only_and_is_refused_the_export(viewer, raw, run) -> None:
    client = signed_in_client(viewer)
    html = client.get("/customers/").content.decode()
    assert "/api/customers/export" not in html
    assert "Customer lists are for analysts" in html
    segment = _segment_rows(html)[0][0]
    assert client.get("/api/customers/export", {"segment": segment}).status_code == 403


def test_analyst_gets_an_export_link_per_segment_that_downloads_its_customers(analyst, raw, run) -> None:
    client = signed_in_client(analyst)
    html = client.get("/customers/").content.decode()
    links = re.findall(r'href="(/api/customers/export\?segment=[^"]+)"', html)
    rows = [row for row in _segment_rows(html) if row[1]]
    assert len(links) == len(rows)

    response = client.get(links[0].replace("&amp;", "&"))
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(lines) - 1 == rows[0][1]  # header + one line per customer of the segment


def test_movement_appears_once_there_are_two_runs(viewer, raw, run) -> None:
    html = signed_in_client(viewer).get("/customers/").content.decode()
    assert "Only one segmentation run" in html
    second = segmentation_run_create()
    assert second.status == "succeeded"
    html = signed_in_client(viewer).get("/customers/").content.decode()
    assert 'data-figure="figure-movement"' in html
    match = re.search(r"([\d,]+) customers are in both runs; ([\d,]+) left and ([\d,]+) are new", html)
    assert match and int(match.group(1).replace(",", "")) == len(expected_rfm(raw))
    assert (match.group(2), match.group(3)) == ("0", "0")


def test_uninformative_frequency_is_flagged_and_its_grid_left_out(viewer) -> None:
    lines = build_sales(one_purchase_each=True)
    load_sales(lines)
    assert segmentation_run_create().status == "succeeded"

    html = signed_in_client(viewer).get("/customers/").content.decode()
    assert "Frequency carries no information here" in html
    assert 'data-figure="figure-rfm-grid-monetary"' in html
    assert 'data-figure="figure-rfm-grid-frequency"' not in html


def test_customer_ids_never_reach_the_page(viewer, raw, run) -> None:
    html = signed_in_client(viewer).get("/customers/").content.decode()
    assert "CUST0" not in html


def test_a_cached_customers_page_renders_in_a_handful_of_queries(viewer, run, django_assert_max_num_queries) -> None:
    client = signed_in_client(viewer)
    client.get("/customers/")
    with django_assert_max_num_queries(10):
        assert client.get("/customers/").status_code == 200


def test_each_segment_row_shows_its_chart_colour_and_its_export_link_in_the_first_column(analyst, raw, run) -> None:
    html = signed_in_client(analyst).get("/customers/?kind=rfm").content.decode()
    table = html.split('id="segment-table"', 1)[1].split("</table>", 1)[0]
    first_cells = re.findall(r'<th scope="row">(.*?)</th>', table, re.DOTALL)
    assert len(first_cells) == 11
    for cell, name in zip(first_cells, rfm.SEGMENTS, strict=True):
        assert f'style="background-color: {charts.SEGMENT_COLORS[name]}"' in cell
        # The export link sits by the segment's name, so a wide table never hides it.
        assert "/api/customers/export?segment=" in cell or "no customers" in cell


def test_kmeans_descriptions_say_they_give_the_cluster_centre(viewer, raw, run) -> None:
    html = signed_in_client(viewer).get("/customers/").content.decode()
    descriptions = re.findall(r'<td class="description">([^<]*)</td>', html)
    assert descriptions and all("Cluster centre: last purchase" in text for text in descriptions)
    assert "The mean columns average every customer in the segment" in html


def test_an_unknown_grouping_falls_back_to_kmeans_and_says_so(viewer, raw, run) -> None:
    html = signed_in_client(viewer).get("/customers/?kind=banana").content.decode()
    assert 'id="kind-fallback"' in html
    assert "There is no grouping called “banana”: showing the K-Means segments instead." in html
    assert '<input type="radio" name="kind" value="kmeans" checked>' in html
    assert 'id="kind-fallback"' not in signed_in_client(viewer).get("/customers/?kind=rfm").content.decode()
