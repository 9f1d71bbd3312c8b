"""Every rendered page meets the content security policy and shows imported data as text.

The pages come from the URLconf walk (tests/reliability/urlconf.py): any route that answers HTML,
visited as staff (who sees every page) with data whose store name is a script tag.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.reliability.data import HOSTILE_TEXT, sample_data_create
from tests.reliability.urlconf import ROUTES, address_of, methods

pytestmark = pytest.mark.django_db

_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(r"""\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
_JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
ESCAPED_FORMS = ("&lt;script&gt;alert(1)&lt;/script&gt;", "\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E")

GET_ROUTES = [route for route in ROUTES if "GET" in methods(route)]


@pytest.fixture
def hostile_data(db: None, media_root: Path, tmp_path: Path) -> dict[str, Any]:
    return sample_data_create(directory=tmp_path, store_names=(HOSTILE_TEXT, "Kanyon", "Metrocity"))


def _html_pages(client: Client, data: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """Every page the walk finds, as staff sees it. A route outside the API that does not answer 200
    fails the walk (a skipped page would be a page nobody checked)."""
    pages, broken = {}, {}
    for route in GET_ROUTES:
        address = address_of(route, data)
        response = client.get(address)
        is_html = response["Content-Type"].startswith("text/html")
        if route.is_api and not is_html:
            continue  # the API's JSON; its own tests and the fuzzer check it
        if response.status_code != 200:
            broken[str(route)] = f"GET {address}: {response.status_code} {response['Content-Type']}"
        elif is_html:  # not HTML: a page's data (the Imports page polls its status as JSON)
            pages[str(route)] = (response, response.content.decode())
    assert broken == {}, "pages that do not answer 200 to staff"
    return pages


def inline_script_problems(html: str) -> list[str]:
    problems = []
    for attributes, body in _SCRIPT_TAG.findall(html):
        src = _SRC.search(attributes)
        if src:
            url = src.group(1)
            if url.startswith(("//", "http:", "https:", "data:")) or not url.startswith("/"):
                problems.append(f"script from elsewhere: {url}")
            if body.strip():
                problems.append(f"script with both src and a body: {url}")
        elif not re.search(r"""type\s*=\s*["']application/json["']""", attributes, re.IGNORECASE):
            problems.append(f"inline script: {body.strip()[:80]!r}")
    if _EVENT_HANDLER.search(html):
        problems.append(f"inline event handler: {_EVENT_HANDLER.search(html).group(0)[:80]!r}")
    if _JAVASCRIPT_URL.search(html):
        problems.append("javascript: URL")
    return problems


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<script>alert(1)</script>", "inline script"),
        ('<script src="https://cdn.example.com/x.js"></script>', "script from elsewhere"),
        ('<button onclick="go()">', "inline event handler"),
        ('<a href="javascript:go()">', "javascript: URL"),
    ],
)
def test_the_checker_finds_what_the_policy_forbids(html: str, problem: str) -> None:
    assert any(problem in found for found in inline_script_problems(html))


def test_the_checker_allows_our_scripts_and_json_data() -> None:
    html = '<script src="/static/js/charts.js" defer></script><script id="f" type="application/json">{"a": 1}</script>'
    assert inline_script_problems(html) == []


def test_the_walk_fails_when_a_page_does_not_answer_200(hostile_data: dict[str, Any], staff: User) -> None:
    """Makes the walk meaningful: a page that errors is reported, not left out."""
    trends = next(route for route in GET_ROUTES if route.name == "analytics:trends")

    class BrokenTrends(Client):
        def get(self, path: str, *args: Any, **kwargs: Any) -> Any:
            response = super().get(path, *args, **kwargs)
            if path == address_of(trends, hostile_data):
                response.status_code = 404
            return response

    client = BrokenTrends()
    client.force_login(staff)
    with pytest.raises(AssertionError, match="analytics:trends"):
        _html_pages(client, hostile_data)


def test_every_page_carries_a_strict_content_security_policy(hostile_data: dict[str, Any], staff: User) -> None:
    client = Client()
    client.force_login(staff)
    pages = _html_pages(client, hostile_data)
    pages["login (signed out)"] = (resp := Client().get("/accounts/login/"), resp.content.decode())
    assert len(pages) >= 3
    for name, (response, _) in pages.items():
        policy = response.get("Content-Security-Policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        assert directives.get("script-src") == ["'self'"], f"{name}: {policy!r}"
        assert directives.get("object-src") == ["'none'"], f"{name}: {policy!r}"
        assert directives.get("frame-ancestors") == ["'none'"], f"{name}: {policy!r}"


def test_no_page_has_an_inline_script(hostile_data: dict[str, Any], staff: User) -> None:
    client = Client()
    client.force_login(staff)
    pages = _html_pages(client, hostile_data)
    pages["login (signed out)"] = (None, Client().get("/accounts/login/").content.decode())
    problems = {name: inline_script_problems(html) for name, (_, html) in pages.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_imported_values_never_render_as_markup(hostile_data: dict[str, Any], staff: User) -> None:
    client = Client()
    client.force_login(staff)
    pages = _html_pages(client, hostile_data)
    assert not [name for name, (_, html) in pages.items() if HOSTILE_TEXT in html]


def test_imported_values_render_as_text(hostile_data: dict[str, Any], staff: User) -> None:
    client = Client()
    client.force_login(staff)
    pages = _html_pages(client, hostile_data)
    shown = [name for name, (_, html) in pages.items() if any(form in html for form in ESCAPED_FORMS)]
    assert shown, "no page shows store names yet, so escaping is not exercised"
