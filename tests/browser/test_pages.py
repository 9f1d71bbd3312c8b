"""The five pages in Debian's Chromium, at desktop and phone width, on data loaded through the real
import service (two imported files, a segmentation refit after each)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page

from analytics.demo_data import demo_rows_write
from tests.browser.conftest import PHONE, PageProblems, assert_charts_drawn, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Page, path and the charts it draws on the demo data.
PAGES = [
    ("overview", "/", 2),
    ("customers", "/customers/", 11),  # seven of segments, four of customer value
    ("trends", "/trends/", 5),
    ("cohorts", "/cohorts/", 2),
    ("revenue-change", "/revenue-change/", 2),
    ("simulator", "/simulator/", 2),
    ("imports", "/imports/", 0),
    ("mapping-editor", "/imports/mappings/new/", 0),
]


def _kpi(page: Page, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"] dd').first.inner_text()


def test_every_page_opens_and_draws_its_charts_without_console_errors(
    live_server, staff, demo_data, page_and_problems: tuple[Page, PageProblems], viewport: dict[str, int]
) -> None:
    page, problems = page_and_problems
    sign_in(page, live_server.url, "staff1", "pw-staff1")
    width = "phone" if viewport is PHONE else "desktop"
    for name, path, charts in PAGES:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        assert page.locator("h1").count() == 1
        assert assert_charts_drawn(page) == charts, path
        # Nothing wider than the screen: tables scroll inside their own box.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than the {viewport['width']}px screen"
        screenshot(page, f"{name}-{width}")
    assert problems.errors == []


def test_a_store_filter_changes_the_numbers_on_the_overview(live_server, viewer, demo_data, desktop_page) -> None:
    page, problems = desktop_page
    sign_in(page, live_server.url, "viewer1", "pw-viewer1")
    net_before = _kpi(page, "net")
    stores_before = page.locator("#store-table tbody tr").count()

    page.locator("#f-store summary").click()
    page.get_by_label("Kanyon", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"store=Kanyon"))
    assert_charts_drawn(page)

    assert _kpi(page, "net") != net_before
    assert stores_before > 1
    assert page.locator("#store-table tbody tr").count() == 1
    assert page.locator("#store-table tbody th").inner_text() == "Kanyon"
    assert page.locator("#f-store summary").inner_text() == "Kanyon"
    # The filtered view is a link: opening it again shows the same numbers.
    filtered_net = _kpi(page, "net")
    page.goto(page.url)
    assert _kpi(page, "net") == filtered_net
    assert problems.errors == []


def test_the_store_filter_takes_several_stores_from_the_keyboard(live_server, viewer, demo_data, desktop_page) -> None:
    page, problems = desktop_page
    sign_in(page, live_server.url, "viewer1", "pw-viewer1")
    summary = page.locator("#f-store summary")
    summary.focus()
    page.keyboard.press("Enter")  # opens the list
    for name in ("Kanyon", "Metrocity"):
        page.get_by_label(name, exact=True).focus()
        page.keyboard.press("Space")
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"store=Kanyon&store=Metrocity"))
    assert_charts_drawn(page)
    stores = page.locator("#store-table tbody th").all_inner_texts()
    assert sorted(stores) == ["Kanyon", "Metrocity"]
    assert summary.inner_text() == "2 stores"
    assert problems.errors == []


def test_the_simulator_form_updates_the_results(live_server, analyst, demo_data, desktop_page) -> None:
    page, problems = desktop_page
    sign_in(page, live_server.url, "analyst1", "pw-analyst1")
    page.goto(live_server.url + "/simulator/")
    assert_charts_drawn(page)
    profit = page.locator('[data-result="incremental_profit"] dd').first
    before = profit.inner_text()

    page.get_by_label("Discount (%)", exact=True).fill("30")
    page.get_by_label("Response rate with the offer (%)", exact=True).fill("60")
    page.get_by_role("button", name="Simulate").click()
    page.wait_for_url(re.compile(r"discount=30"))
    assert_charts_drawn(page)

    assert profit.inner_text() != before
    assert page.locator('[data-used="discount"]').inner_text() == "30.0\u00a0%"
    assert page.get_by_label("Discount (%)", exact=True).input_value() == "30"
    assert problems.errors == []


def test_a_viewer_sees_aggregates_only(live_server, viewer, demo_data, desktop_page) -> None:
    page, problems = desktop_page
    sign_in(page, live_server.url, "viewer1", "pw-viewer1")
    navigation = page.get_by_role("navigation", name="Main")
    assert navigation.get_by_role("link", name="Simulator").count() == 0
    page.goto(live_server.url + "/customers/")
    assert_charts_drawn(page)
    assert page.locator("a.export-link").count() == 0
    assert page.locator("#segment-table tbody tr").count() >= 2
    assert problems.errors == []


@pytest.mark.worker
def test_an_upload_shows_progress_and_ends_in_a_succeeded_batch(
    live_server, staff, qcluster_worker, desktop_page, tmp_path: Path
) -> None:
    cache.clear()
    page, problems = desktop_page
    rows = 20_000
    upload = demo_rows_write(tmp_path / "upload.csv", rows=rows, seed=11)
    sign_in(page, live_server.url, "staff1", "pw-staff1")
    page.goto(live_server.url + "/imports/")
    page.evaluate("window.__noReload = true")

    page.get_by_label("Transaction file (CSV)", exact=True).set_input_files(str(upload))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r"/imports/#batch-\d+$"))
    page.evaluate("window.__noReload = true")
    row = page.locator("tr[data-batch-id]").first
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = row.get_attribute("data-status") or ""
        progress = int(row.locator("progress").get_attribute("value") or 0)
        if not seen or seen[-1] != (status, progress):
            seen.append((status, progress))
        if status in ("succeeded", "failed"):
            break
        page.wait_for_timeout(200)

    screenshot(page, "imports-after-upload-desktop")
    assert seen[0][0] in ("queued", "running"), seen
    assert seen[-1] == ("succeeded", 100), f"{seen}\n{qcluster_worker.log()[-3000:]}"
    assert row.locator('[data-field="status"]').inner_text() == "Succeeded"
    assert row.locator('[data-field="imported"]').inner_text() == f"{rows:,}"
    # The row was updated in place by the poller, not by reloading the page.
    assert page.evaluate("window.__noReload") is True
    assert problems.errors == []
