"""Password guessing: django-axes locks a username + client address pair after AXES_FAILURE_LIMIT
failed logins. The test settings switch axes off; these tests switch it on."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("axes_on")]

LOGIN_URL = "/accounts/login/"


@pytest.fixture
def axes_on():
    with override_settings(AXES_ENABLED=True):
        yield


def _login(username: str, password: str, *, ip: str = "203.0.113.5", client: Client | None = None):
    client = client or Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)
    client.get(LOGIN_URL)
    token = client.cookies["csrftoken"].value
    response = client.post(LOGIN_URL, {"username": username, "password": password, "csrfmiddlewaretoken": token})
    return client, response


def _fail(username: str, times: int, *, ip: str = "203.0.113.5") -> None:
    for _ in range(times):
        _, response = _login(username, "wrong-password", ip=ip)
        assert response.status_code == 200  # the form again, with its error


def test_the_right_password_signs_in(viewer: User) -> None:
    client, response = _login("viewer1", "pw-viewer1")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_login_is_locked_after_the_failure_limit_even_with_the_right_password(viewer: User) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    _fail("viewer1", limit - 1)
    _, response = _login("viewer1", "wrong-password")
    assert response.status_code == 429

    client, response = _login("viewer1", "pw-viewer1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still signed out


def test_failures_below_the_limit_do_not_lock(viewer: User) -> None:
    _fail("viewer1", settings.AXES_FAILURE_LIMIT - 1)
    _, response = _login("viewer1", "pw-viewer1")
    assert response.status_code == 302


def test_the_lock_holds_the_username_from_that_address_only(viewer: User, analyst: User) -> None:
    _fail("viewer1", settings.AXES_FAILURE_LIMIT - 1)
    _login("viewer1", "wrong-password")

    assert _login("viewer1", "pw-viewer1", ip="198.51.100.7")[1].status_code == 302
    assert _login("analyst1", "pw-analyst1")[1].status_code == 302


def test_a_made_up_forwarded_for_header_does_not_dodge_the_lock(viewer: User) -> None:
    _fail("viewer1", settings.AXES_FAILURE_LIMIT - 1)
    _login("viewer1", "wrong-password")

    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert _login("viewer1", "pw-viewer1", client=client)[1].status_code == 429


def test_the_admin_login_counts_and_is_locked_too(staff: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/admin/login/", {"username": "staff1", "password": "nope"})
    assert response.status_code == 429
    response = client.post("/admin/login/", {"username": "staff1", "password": "pw-staff1"})
    assert response.status_code == 429
