"""The Cohorts and Revenue change pages, and the comparison on Overview and Trends, on the CDNOW sample
imported through the pipeline."""

from __future__ import annotations

import re

import pytest

from analytics.tests.cdnow import cdnow_import
from retail_platform.tests.pages import assert_no_inline_script, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdnow(run_import) -> None:
    cdnow_import(run_import)


def test_the_cohorts_page_shows_the_triangle_and_the_table(viewer, cdnow: None) -> None:
    response = signed_in_client(viewer).get("/cohorts/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="chart-cohort-heatmap"' in html and 'id="chart-cohort-curves"' in html
    assert '<th scope="row">1997-01</th>' in html
    assert re.search(r"<td class=\"num\">15\.9\s%</td>", html)  # January's retention in month 1, 0.1588
    assert_no_inline_script(html)
    weekly = signed_in_client(viewer).get("/cohorts/", {"period": "week", "metric": "revenue"}).content.decode()
    assert "1997-W01" in weekly


def test_the_revenue_change_page_splits_the_change(viewer, cdnow: None) -> None:
    response = signed_in_client(viewer).get(
        "/revenue-change/", {"a_from": "1997-04-01", "a_to": "1997-06-30", "b_from": "1997-07-01", "b_to": "1997-09-30"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "6,822.52" in html and "457.56" in html
    assert 'id="chart-revenue-waterfall"' in html
    default = signed_in_client(viewer).get("/revenue-change/")
    assert default.status_code == 200 and "Period A from" in default.content.decode()
    bad = signed_in_client(viewer).get("/revenue-change/", {"a_from": "soon"}).content.decode()
    assert "a_from must be a date" in bad


def test_overview_and_trends_compare_with_the_previous_period(viewer, cdnow: None) -> None:
    query = {"date_from": "1997-07-01", "date_to": "1997-09-30", "compare": "previous_period"}
    html = signed_in_client(viewer).get("/", query).content.decode()
    assert "Compared with the previous period, 31 Mar 1997 to 30 Jun 1997" in html
    assert 'class="change change-down"' in html  # CDNOW's Q3 sold less than the 92 days before
    trends = signed_in_client(viewer).get("/trends/", query).content.decode()
    assert "Compared with the previous period" in trends and "Net sales, previous period" in trends
    nothing = signed_in_client(viewer).get("/", {**query, "compare": "previous_year"}).content.decode()
    assert "the data holds nothing then" in nothing
