"""Layout at 1280 and 375 px in Debian's Chromium: nothing wider than the screen, chart titles and
legends inside their charts, export links in view, a phone menu that reaches every page, tables
that say when they scroll, and amounts that never break after their minus sign."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import DESKTOP, PHONE, PageProblems, assert_charts_drawn, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/trends/",
    "/trends/?compare=previous_year",
    "/cohorts/",
    "/revenue-change/",
    "/customers/",
    "/customers/?kind=rfm",
    "/simulator/?segments=Champions&response_rate=1",
    "/imports/",
    "/imports/mappings/new/",
]

# Every text plotly writes in a chart (titles, axis titles, legend entries, annotations), with its
# box and its chart's box: a text reaching out of its chart is clipped on the page.
TEXTS_OUTSIDE_THEIR_CHART = """() => {
    const outside = [];
    for (const plot of document.querySelectorAll('.plot[data-figure]')) {
        const box = plot.getBoundingClientRect();
        const texts = plot.querySelectorAll(
            '.annotation-text, .legendtext, .g-xtitle text, .g-ytitle text, .xtick text, .ytick text');
        for (const text of texts) {
            const r = text.getBoundingClientRect();
            if (r.width && (r.left < box.left - 1 || r.right > box.right + 1)) {
                outside.push(`${plot.dataset.figure}: "${text.textContent}" ${Math.round(r.left - box.left)}..` +
                             `${Math.round(r.right - box.left)} of ${Math.round(box.width)} px`);
            }
        }
    }
    return outside;
}"""


def _screen_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_page_fits_and_keeps_chart_texts_and_export_links_in_view(
    live_server, staff, demo_data, page_and_problems: tuple[Page, PageProblems], viewport: dict[str, int]
) -> None:
    page, problems = page_and_problems
    sign_in(page, live_server.url, "staff1", "pw-staff1")
    for path in PAGES:
        page.goto(live_server.url + path)
        assert_charts_drawn(page)
        assert _screen_overflow(page) <= 1, f"{path} is wider than the {viewport['width']} px screen"
        assert page.evaluate(TEXTS_OUTSIDE_THEIR_CHART) == [], path
    for kind in ("kmeans", "rfm"):
        page.goto(f"{live_server.url}/customers/?kind={kind}")
        links = page.locator("#segment-table a.export-link")
        assert links.count() >= 2
        for index in range(links.count()):
            link = links.nth(index)
            link.scroll_into_view_if_needed()
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (
                f"export link {index} of the {kind} table is off the screen: {box}"
            )
    if viewport is DESKTOP:
        # At 1280 px the segment table fits its card: no scrolling, no hint.
        assert page.locator("#segment-table").evaluate("t => t.parentElement.dataset.scroll") == "none"
    screenshot(page, f"customers-rfm-{'phone' if viewport is PHONE else 'desktop'}")
    assert problems.errors == []


def test_a_table_wider_than_a_phone_scrolls_in_its_card_and_says_so(live_server, viewer, demo_data, phone_page) -> None:
    page, problems = phone_page
    sign_in(page, live_server.url, "viewer1", "pw-viewer1")
    page.goto(live_server.url + "/trends/")
    wrap = page.locator("#discount-table").locator("xpath=..")
    assert wrap.get_attribute("data-scroll") == "start"
    hint = wrap.locator("xpath=preceding-sibling::p[1]")
    assert hint.is_visible() and hint.inner_text().startswith("Scroll sideways for more columns")
    # The first column (the category) stays in view while the others scroll under it.
    first_cell = page.locator("#discount-table tbody th").first
    left_before = first_cell.bounding_box()["x"]
    wrap.evaluate("w => w.scrollTo(w.scrollWidth, 0)")
    page.wait_for_function("w => w.dataset.scroll === 'end'", arg=wrap.element_handle())
    assert first_cell.bounding_box()["x"] == pytest.approx(left_before, abs=1)
    assert problems.errors == []


def test_the_phone_menu_opens_by_tap_or_keyboard_and_reaches_every_page(live_server, staff, phone_page) -> None:
    page, problems = phone_page
    sign_in(page, live_server.url, "staff1", "pw-staff1")
    button = page.get_by_role("button", name="Menu")
    navigation = page.get_by_role("navigation", name="Main")
    assert button.is_visible() and not navigation.is_visible()
    assert button.get_attribute("aria-expanded") == "false"
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] < 80  # one line: brand and button

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    names = ["Overview", "Customers", "Trends", "Simulator", "Imports", "API docs", "Admin"]
    for name in names:
        link = navigation.get_by_role("link", name=name, exact=True)
        box = link.bounding_box()
        assert link.is_visible() and box is not None and box["x"] + box["width"] <= PHONE["width"], name
    screenshot(page, "menu-open-phone")
    navigation.get_by_role("link", name="Imports", exact=True).click()
    page.wait_for_url(re.compile(r"/imports/$"))
    assert not navigation.is_visible()  # a new page starts with the menu folded

    button.focus()
    page.keyboard.press("Enter")
    assert navigation.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Overview"
    page.keyboard.press("Escape")
    assert not navigation.is_visible()
    assert page.evaluate("document.activeElement.className") == "menu-button"
    assert problems.errors == []


def test_the_desktop_navigation_shows_every_link_and_the_api_docs_open(live_server, viewer, desktop_page) -> None:
    page, problems = desktop_page
    sign_in(page, live_server.url, "viewer1", "pw-viewer1")
    assert not page.get_by_role("button", name="Menu").is_visible()
    navigation = page.get_by_role("navigation", name="Main")
    for name in ("Overview", "Customers", "Trends", "Imports", "API docs"):
        assert navigation.get_by_role("link", name=name, exact=True).is_visible()
    response = page.goto(live_server.url + "/api/docs/")
    assert response is not None and response.status == 200  # viewers may read the API docs
    assert problems.errors == []


def test_a_negative_amount_never_breaks_after_its_minus_sign(live_server, analyst, demo_data, phone_page) -> None:
    page, problems = phone_page
    sign_in(page, live_server.url, "analyst1", "pw-analyst1")
    # A response below the baseline: the campaign loses money, and the page warns.
    page.goto(live_server.url + "/simulator/?segments=Champions&response_rate=1&fixed_cost=123456789")
    assert page.locator("#offer-lowers-sales").is_visible()
    # For each minus sign on the page: the sign, and what follows it up to the first digit, on one line.
    signs = page.evaluate(
        """() => {
            const found = [];
            const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                let at = node.data.indexOf('\u2212');
                while (at !== -1) {
                    const digit = node.data.slice(at).search(/[0-9]/);
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + digit + 1);
                    const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                    found.push([node.data.slice(at, at + digit + 8), tops.size]);
                    at = node.data.indexOf('\u2212', at + 1);
                }
            }
            return found;
        }"""
    )
    assert len(signs) >= 5, signs
    assert [text for text, lines in signs if lines != 1] == []
    screenshot(page, "simulator-loss-phone")
    assert problems.errors == []


def test_the_skip_link_is_the_first_stop_of_the_keyboard(live_server, viewer, demo_data, desktop_page) -> None:
    page, problems = desktop_page
    sign_in(page, live_server.url, "viewer1", "pw-viewer1")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    # Wide tables and charts' tables are reachable: every scroll box is a focusable region.
    regions = page.locator(".table-wrap[tabindex='0'][role='region']")
    assert regions.count() == page.locator(".table-wrap").count() >= 1
    assert problems.errors == []


def test_favicon_ico_is_served(live_server) -> None:
    import urllib.request

    with urllib.request.urlopen(live_server.url + "/favicon.ico") as response:  # noqa: S310 - our test server
        assert response.status == 200
        assert response.read(4) == b"\x00\x00\x01\x00"
