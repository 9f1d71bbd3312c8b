"""Token authentication in one query: the same answers as DRF's class, and nothing remembered."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.models import Group, User
from rest_framework import authentication as drf_authentication
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from retail_platform.api.authentication import TokenAuthentication
from retail_platform.roles import ANALYST, VIEWER

pytestmark = pytest.mark.django_db


def _token_client(token: Token | str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {getattr(token, 'key', token)}")
    return client


def test_a_token_request_costs_one_query(viewer: User, django_assert_num_queries) -> None:
    client = _token_client(Token.objects.create(user=viewer))

    with django_assert_num_queries(1) as queries:  # token, user and groups; the permission asks nothing more
        response = client.get("/api/ping")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "authtoken_token" in queries.captured_queries[0]["sql"]


def test_the_user_and_token_equal_what_drf_loads(analyst: User) -> None:
    analyst.groups.add(Group.objects.get_or_create(name=VIEWER)[0])
    token = Token.objects.create(user=analyst)

    user, auth = TokenAuthentication().authenticate_credentials(token.key)
    drf_user, drf_auth = drf_authentication.TokenAuthentication().authenticate_credentials(token.key)

    fields = [field.attname for field in User._meta.concrete_fields]
    assert {name: getattr(user, name) for name in fields} == {name: getattr(drf_user, name) for name in fields}
    assert (auth.key, auth.user_id, auth.created) == (drf_auth.key, drf_auth.user_id, drf_auth.created)
    assert auth.user is user
    assert user._state.adding is False and user._state.db == "default"
    assert user._role_group_names == {ANALYST, VIEWER}


# Refusals are 403, as with DRF's class: the first authentication class (the session's) sends no
# WWW-Authenticate challenge, so DRF answers 403 rather than 401.
def test_an_unknown_token_is_refused_in_the_error_shape() -> None:
    response = _token_client("0" * 40).get("/api/ping")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "status": 403,
        "code": "authentication_failed",
        "message": "Invalid token.",
        "details": {},
    }


def test_an_inactive_users_token_is_refused(viewer: User) -> None:
    client = _token_client(Token.objects.create(user=viewer))
    User.objects.filter(pk=viewer.pk).update(is_active=False)

    response = client.get("/api/ping")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_a_deleted_token_is_refused_on_the_next_request(viewer: User) -> None:
    token = Token.objects.create(user=viewer)
    client = _token_client(token)
    assert client.get("/api/ping").status_code == 200

    token.delete()

    assert client.get("/api/ping").json()["error"]["message"] == "Invalid token."


def test_a_role_change_counts_on_the_next_request(viewer: User) -> None:
    client = _token_client(Token.objects.create(user=viewer))
    assert client.get("/api/ping").status_code == 200
    assert client.get("/api/scenarios").status_code == 403  # analyst only

    viewer.groups.add(Group.objects.get_or_create(name=ANALYST)[0])
    assert client.get("/api/scenarios").status_code == 200

    viewer.groups.clear()
    assert client.get("/api/ping").status_code == 403


@pytest.mark.parametrize("header", ["Token", "Token a b", "token"])
def test_a_malformed_header_is_refused(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/ping")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("path", ["/api/ping", "/api/customers/rfm-segments", "/api/imports"])
def test_basic_authentication_with_a_right_password_is_refused(analyst: User, staff: User, path: str) -> None:
    """DRF enables Basic authentication by default; the project's defaults leave it out. The same
    user signed in by a session is let in, so the refusal is the scheme's."""
    for user in (analyst, staff):
        credentials = base64.b64encode(f"{user.username}:pw-{user.username}".encode()).decode()
        client = APIClient()

        response = client.get(path, HTTP_AUTHORIZATION=f"Basic {credentials}")

        assert response.status_code == 403, (user.username, path)
        assert response.json()["error"]["code"] == "not_authenticated"
        assert "Basic" not in response.get("WWW-Authenticate", "")
        assert user.check_password(f"pw-{user.username}")
    signed_in = APIClient()
    signed_in.force_login(staff)
    assert signed_in.get(path).status_code not in (401, 403)  # (404 without a segmentation yet)
