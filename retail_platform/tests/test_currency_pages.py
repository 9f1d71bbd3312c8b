"""CURRENCY drives every page: tables, cards, chart ticks and hover labels."""

from __future__ import annotations

import pytest
from django.test import override_settings

from retail_platform.tests.pages import signed_in_client
from segmentation.services.refit import segmentation_run_create
from segmentation.tests.data import build_sales, load_sales

PAGES = ("/", "/trends/", "/customers/", "/customers/?kind=rfm", "/simulator/", "/imports/")
LIRA = ("₺", "\\u20ba")  # as text, and as json_script writes it inside a figure


@pytest.fixture
def sales_and_segments(db: None) -> None:
    load_sales(build_sales())
    assert segmentation_run_create().status == "succeeded"


@pytest.mark.parametrize("path", PAGES)
def test_with_currency_usd_no_page_shows_the_lira(path: str, staff, sales_and_segments: None) -> None:
    with override_settings(CURRENCY="USD"):
        response = signed_in_client(staff).get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert not any(sign in html for sign in LIRA), path
    if path != "/imports/":  # the only page without amounts
        assert "$" in html


@pytest.mark.parametrize("path", PAGES[:3])
def test_the_demo_currency_shows_the_lira(path: str, staff, sales_and_segments: None) -> None:
    html = signed_in_client(staff).get(path).content.decode()
    assert "₺" in html
