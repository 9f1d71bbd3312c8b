"""Errors outside the DRF views keep the API's JSON shape, and a lost database answers 503 wherever
it surfaces."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_unknown_api_address_answers_json_404(viewer_client: APIClient) -> None:
    response = viewer_client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == {
        "status": 404,
        "code": "not_found",
        "message": "No API endpoint or object at this address.",
        "details": {},
    }


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/api/imports/not-a-number", "/api/", "/api/ping/extra/"])
def test_unknown_api_address_answers_json_404_with_debug_on_or_off(settings, viewer, debug, signed_in, path) -> None:
    """With DEBUG on (`manage.py runserver`, `DEBUG=true make run`) Django would answer its debug
    page listing every URL pattern, before handler404 is asked."""
    settings.DEBUG = debug
    client = Client()
    if signed_in:
        client.force_login(viewer)

    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
    assert b"URLconf" not in response.content


def test_the_schema_and_the_docs_answer_without_a_trailing_slash_too(viewer_client: APIClient) -> None:
    assert viewer_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").status_code == 200
    assert viewer_client.get("/api/docs").status_code == 200


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs"])
def test_a_signed_out_visitor_of_the_api_docs_is_sent_to_sign_in_and_back(path) -> None:
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_the_api_docs_are_a_page_for_viewers_and_refused_to_a_user_without_a_role(viewer, django_user_model) -> None:
    client = Client()
    client.force_login(viewer)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert docs["Content-Type"].startswith("text/html")

    client.force_login(django_user_model.objects.create_user("norole", password="x"))
    assert client.get("/api/docs/").status_code == 403


def test_unknown_page_answers_html_404(viewer) -> None:
    client = Client()
    client.force_login(viewer)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


class _LosesTheDatabaseInProcessResponse:
    """Stands in for a session or message middleware that writes after the view ran."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.get_response(request)
        raise OperationalError("connection to server on socket failed: No such file or directory")


class _Boom:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raise RuntimeError("a bug")


def _with_middleware(path: str) -> list[str]:
    from django.conf import settings

    middleware = list(settings.MIDDLEWARE)
    middleware.insert(middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1, path)
    return middleware


@pytest.mark.parametrize(("path", "content_type"), [("/api/ping", "application/json"), ("/", "text/html")])
def test_database_lost_in_a_middleware_still_answers_503(path: str, content_type: str) -> None:
    middleware = _with_middleware(f"{__name__}._LosesTheDatabaseInProcessResponse")
    with override_settings(MIDDLEWARE=middleware):
        response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    assert response["Retry-After"] == "5"
    assert b"Traceback" not in response.content
    assert b"socket" not in response.content


def test_api_server_error_answers_json_without_details() -> None:
    with override_settings(MIDDLEWARE=_with_middleware(f"{__name__}._Boom")):
        response = Client(raise_request_exception=False).get("/api/ping")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "a bug" not in response.content.decode()
