"""Browser tests: Playwright's sync API driving Debian's Chromium (/usr/bin/chromium, never a
downloaded browser) against pytest-django's live server.

Every page a test opens records console errors and uncaught exceptions; a test fails if any appear.
Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class PageProblems:
    """Console errors and uncaught exceptions seen by one page."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} @ {message.location.get('url', '')}")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"pageerror: {error}")


def _open_page(browser: Browser, viewport: dict[str, int]) -> tuple[Page, PageProblems]:
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    return page, problems


@pytest.fixture(scope="session", autouse=True)
def _role_groups_left_for_the_next_run(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """A transactional test ends with a flush that empties every table, the role groups of the data
    migration included; put them back so a reused test database still has them next time."""
    yield
    from django.contrib.auth.models import Group

    from retail_platform.roles import ROLE_GROUPS

    with django_db_blocker.unblock():
        for name in ROLE_GROUPS:
            Group.objects.get_or_create(name=name)


@pytest.fixture(autouse=True)
def role_groups(transactional_db: None) -> None:
    """The role groups come from a data migration; a transactional test's flush removes them, and a
    reused test database may have been flushed by the previous run, so make sure they are there."""
    from django.contrib.auth.models import Group

    from retail_platform.roles import ROLE_GROUPS

    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


@pytest.fixture(params=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return DESKTOP if request.param == "desktop" else PHONE


@pytest.fixture
def page_and_problems(browser: Browser, viewport: dict[str, int]) -> Iterator[tuple[Page, PageProblems]]:
    page, problems = _open_page(browser, viewport)
    yield page, problems
    page.context.close()


@pytest.fixture
def desktop_page(browser: Browser) -> Iterator[tuple[Page, PageProblems]]:
    page, problems = _open_page(browser, DESKTOP)
    yield page, problems
    page.context.close()


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploads under the test's own folder, not the project's var/media (ask for it before a worker
    fixture, so the worker reads the files from there too)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[tuple[Page, PageProblems]]:
    page, problems = _open_page(browser, PHONE)
    yield page, problems
    page.context.close()


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_charts_drawn(page: Page) -> int:
    """Wait until plotly.js has drawn every chart container on the page (an svg inside each one);
    return how many there are."""
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.plot[data-figure]'))"
        ".every(el => el.dataset.drawn === 'true' && el.querySelector('svg.main-svg'))"
    )
    containers = page.locator(".plot[data-figure]")
    count = containers.count()
    for index in range(count):
        assert containers.nth(index).locator("svg").count() > 0
    return count


def demo_import(path: Path) -> None:
    """Import a file through the real service, then a segmentation refit (what the worker does after an
    import)."""
    from analytics.services.import_batches import import_batch_create, import_batch_run
    from segmentation.services.refit import segmentation_run_create

    batch = import_batch_create(path_or_file=path, file_name=path.name, source="command", enqueue=False)
    batch = import_batch_run(batch_id=batch.id, queue_refit=False)
    assert batch.status == "succeeded", batch.message
    run = segmentation_run_create()
    assert run.status == "succeeded", run.message


@pytest.fixture
def demo_data(transactional_db: None, tmp_path: Path) -> None:
    """Two demo files imported one after the other (so the Customers page has movement to show)."""
    from django.core.cache import cache

    from analytics.demo_data import demo_rows_write

    cache.clear()  # the data version restarts in every test; the server thread shares this cache
    demo_import(demo_rows_write(tmp_path / "first.csv", rows=3000, seed=7))
    demo_import(demo_rows_write(tmp_path / "second.csv", rows=1000, seed=8))
