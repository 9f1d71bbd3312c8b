"""Every page passes axe-core with no serious or critical violation, at 1280 and 375 px, and every
chart has a text alternative.

axe-core 4.14.1 (npm `axe-core`, MPL-2.0) is committed in tests/browser/vendor/ with its licence,
so the tests run offline and on a pinned version; it is evaluated in the page through the DevTools
protocol, which the content security policy does not govern (the page's own scripts still are).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import PHONE, PageProblems, assert_charts_drawn, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")
PAGES = [
    "/",
    "/?store=Kanyon&store=Metrocity",
    "/trends/",
    "/?compare=previous_year",
    "/cohorts/",
    "/cohorts/?period=week&metric=revenue",
    "/revenue-change/",
    "/customers/",
    "/customers/?kind=rfm",
    "/simulator/",
    "/simulator/?segments=Champions&response_rate=1",
    "/imports/",
    "/imports/mappings/new/",
]


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "where": [node["target"] for node in violation["nodes"][:5]],
        }
        for violation in result["violations"]
        if violation["impact"] in BLOCKING
    ]


def test_every_page_passes_axe_and_every_chart_has_a_text_alternative(
    live_server, staff, demo_data, page_and_problems: tuple[Page, PageProblems], viewport: dict[str, int]
) -> None:
    page, problems = page_and_problems
    page.goto(live_server.url + "/accounts/login/")
    found = {"/accounts/login/": axe_violations(page)}
    sign_in(page, live_server.url, "staff1", "pw-staff1")
    for path in PAGES:
        page.goto(live_server.url + path)
        assert_charts_drawn(page)
        found[path] = axe_violations(page)
        for chart in page.locator(".plot[data-figure]").all():
            assert chart.get_attribute("role") == "img"
            assert len(chart.get_attribute("aria-label") or "") > 20, chart.get_attribute("data-figure")
    if viewport is PHONE:
        page.get_by_role("button", name="Menu").click()
        found["menu open"] = axe_violations(page)
    assert {path: violations for path, violations in found.items() if violations} == {}, json.dumps(found, indent=1)
    assert problems.errors == []


def test_the_mapping_editor_with_its_preview_passes_axe(
    media_root, live_server, staff, desktop_page, tmp_path: Path
) -> None:
    page, problems = desktop_page
    sample = tmp_path / "cdnow.csv"
    sample.write_text("customer_id,invoice_date,quantity,price\nC1,1997-01-01,2,29.33\nC2,1997-01-02,x,1\n")
    sign_in(page, live_server.url, "staff1", "pw-staff1")
    page.goto(live_server.url + "/imports/mappings/new/")
    page.get_by_label("A CSV file").set_input_files(str(sample))
    page.get_by_role("button", name="Read the file").click()
    page.wait_for_selector("#preview-table")
    assert page.locator('tr[data-outcome="error"]').count() == 1  # the row whose quantity is "x"
    assert axe_violations(page) == []
    assert problems.errors == []
