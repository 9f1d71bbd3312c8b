"""Every URL in the URLconf, walked as anonymous, viewer, analyst and staff.

The routes are read from the URLconf, so a new page or endpoint is checked the day it is added:
- anonymous people get a login redirect (pages) or a 401/403 JSON error (API), whatever the method;
- every view declares the role it needs (a role mixin from retail_platform.pages, or role permission
  classes from retail_platform.api.permissions), and a signed-in person below that role gets 403;
- a viewer never receives customer-level data: no customer id from the data, no `customer_id`-like
  field, no file download;
- a person with the role gets an answer (not 401/403, never 5xx).

Only refused requests are sent with methods other than GET, so the walk never starts an import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.reliability.data import MARKER_CUSTOMERS
from tests.reliability.urlconf import (
    ANALYST,
    ANONYMOUS,
    PROTECTED_ROUTES,
    ROLE_NAMES,
    ROUTES,
    STAFF,
    VIEWER,
    Route,
    address_of,
    methods,
    required_role,
)

pytestmark = pytest.mark.django_db

CUSTOMER_LEVEL_KEYS = {"customer_id", "customer_external_id", "external_id", "customer_ids"}


# --- data and people -----------------------------------------------------------------------------------------


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def people(viewer: User, analyst: User, staff: User) -> dict[int, User | None]:
    return {ANONYMOUS: None, VIEWER: viewer, ANALYST: analyst, STAFF: staff}


# --- checks --------------------------------------------------------------------------------------------------


def _json_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _json_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _json_keys(inner)


def _customer_level_leaks(response: Any) -> list[str]:
    leaks = []
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    leaks += [f"customer id {marker}" for marker in MARKER_CUSTOMERS if marker in text]
    if "attachment" in response.get("Content-Disposition", "") or "text/csv" in response.get("Content-Type", ""):
        leaks.append("a file download")
    if "json" in response.get("Content-Type", ""):
        try:
            keys = set(_json_keys(json.loads(text)))
        except ValueError:
            keys = set()
        leaks += [f"field {key}" for key in sorted(keys & CUSTOMER_LEVEL_KEYS)]
    return leaks


def _is_json_error(response: Any) -> bool:
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return set(body) == {"error"} and body["error"]["status"] == response.status_code


def _send(client: Client, method: str, address: str) -> Any:
    return client.generic(method, address, data=b"{}", content_type="application/json")


def test_the_walk_finds_the_pages_and_the_api() -> None:
    names = {route.name for route in ROUTES}
    assert {"login", "analytics:overview", "api:ping", "api:schema"} <= names
    assert not any(route.name.startswith("admin:") for route in ROUTES)


@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=str)
def test_every_view_declares_the_role_it_needs(route: Route) -> None:
    for method in methods(route):
        assert required_role(route, method) is not None, (
            f"{method} {route.path_template} declares no role: use a mixin from retail_platform.pages or "
            "permission classes from retail_platform.api.permissions"
        )


@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=str)
def test_anonymous_people_get_a_login_redirect_or_an_api_error(route: Route, sample_data: dict[str, Any]) -> None:
    address = address_of(route, sample_data)
    for method in methods(route) + (["OPTIONS"] if route.is_api else []):
        response = _send(_client(None), method, address)
        where = f"{method} {address} as anonymous"
        assert not _customer_level_leaks(response), where
        if route.is_api:
            assert response.status_code in (401, 403, 405), f"{where}: {response.status_code}"
            if response.status_code != 405 and "json" in response.get("Content-Type", ""):
                assert _is_json_error(response), f"{where}: not the error shape: {response.content[:200]!r}"
        else:
            assert response.status_code == 302, f"{where}: {response.status_code}"
            assert response["Location"].startswith("/accounts/login/"), f"{where}: {response['Location']}"


@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=str)
def test_signed_in_people_get_what_their_role_allows_and_no_more(
    route: Route, sample_data: dict[str, Any], people: dict[int, User | None]
) -> None:
    address = address_of(route, sample_data)
    for role in (VIEWER, ANALYST, STAFF):
        client = _client(people[role])
        for method in methods(route):
            needed = required_role(route, method)
            assert needed is not None
            where = f"{method} {address} as {ROLE_NAMES[role]} (needs {ROLE_NAMES[needed]})"
            if role < needed:
                response = _send(client, method, address)
                assert response.status_code == 403, f"{where}: {response.status_code}"
                if route.is_api:
                    assert _is_json_error(response), where
            elif method == "GET":
                response = client.get(address)
                assert response.status_code not in (401, 403), f"{where}: refused"
                assert response.status_code < 500, f"{where}: {response.status_code}"
            else:
                continue
            if role == VIEWER:
                assert not _customer_level_leaks(response), f"{where}: {_customer_level_leaks(response)}"


def test_an_analyst_does_see_customer_level_data(sample_data: dict[str, Any], analyst: User) -> None:
    """Makes the viewer checks above meaningful: customer-level data is somewhere to be seen."""
    client = _client(analyst)
    analyst_routes = [
        route
        for route in ROUTES
        if route in PROTECTED_ROUTES and "GET" in methods(route) and required_role(route, "GET") == ANALYST
    ]
    seen = []
    for route in analyst_routes:
        response = client.get(address_of(route, sample_data))
        if response.status_code == 200 and _customer_level_leaks(response):
            seen.append(route.name)
    assert seen, "no analyst-only route showed customer-level data"


@pytest.mark.parametrize(
    ("body", "headers", "leak"),
    [
        ({"rows": [{"customer_id": 7}]}, {}, "field customer_id"),
        ({"top": [{"name": MARKER_CUSTOMERS[1]}]}, {}, f"customer id {MARKER_CUSTOMERS[1]}"),
        ({}, {"Content-Disposition": 'attachment; filename="x.csv"'}, "a file download"),
    ],
)
def test_the_leak_detector_sees_customer_level_data(body: dict[str, Any], headers: dict[str, str], leak: str) -> None:
    from django.http import JsonResponse

    response = JsonResponse(body, headers=headers)
    assert leak in _customer_level_leaks(response)


def test_the_leak_detector_lets_aggregates_through() -> None:
    from django.http import JsonResponse

    response = JsonResponse({"customer_type": "repeat", "customers": 3, "store": "Kanyon"})
    assert _customer_level_leaks(response) == []


@pytest.mark.parametrize(
    ("address", "staff_status"),
    [("/admin/", 200), ("/admin/analytics/importbatch/", 200), ("/admin/auth/user/", 403)],
)
def test_the_admin_lets_in_staff_only_and_users_are_for_superusers(
    address: str, staff_status: int, people: dict[int, User | None], django_user_model: Any
) -> None:
    for role in (ANONYMOUS, VIEWER, ANALYST):
        response = _client(people[role]).get(address)
        assert response.status_code == 302, f"{address} as {ROLE_NAMES[role]}: {response.status_code}"
        assert response["Location"].startswith("/admin/login/")
    assert _client(people[STAFF]).get(address).status_code == staff_status
    superuser = django_user_model.objects.create_superuser("root1", password="pw-root1")
    assert _client(superuser).get(address).status_code == 200
