"""The policy headers built once carry what django-csp would build, and per-view policies and
nonces still go through django-csp."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.decorators import csp_exempt, csp_update
from csp.utils import build_policy
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from retail_platform.content_security_policy import CSPMiddleware


def _directives(policy: str) -> dict[str, list[str]]:
    # django-csp orders the directives by set iteration: compare them as a mapping.
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def _respond(view=lambda request: HttpResponse("ok"), path: str = "/") -> tuple[HttpRequest, HttpResponse]:
    request = RequestFactory().get(path)
    middleware = CSPMiddleware(view)
    return request, middleware(request)


def test_a_plain_response_gets_the_policy_of_the_settings() -> None:
    _, response = _respond()

    assert _directives(response[HEADER]) == _directives(build_policy())
    assert _directives(response[HEADER])["script-src"] == ["'self'"]
    assert HEADER_REPORT_ONLY not in response


def test_the_same_value_is_reused_and_rebuilt_when_the_settings_change() -> None:
    first = _respond()[1][HEADER]
    assert _respond()[1][HEADER] is first

    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        assert _respond()[1][HEADER] == "default-src 'none'"
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"default-src": ["'self'"]}}):
        assert _respond()[1][HEADER_REPORT_ONLY] == "default-src 'self'"

    assert _directives(_respond()[1][HEADER]) == _directives(first)


def test_a_decorated_view_gets_its_own_policy() -> None:
    _, response = _respond(csp_update({"img-src": ["https://maps.example.com"]})(lambda request: HttpResponse()))

    assert _directives(response[HEADER])["img-src"] == ["'self'", "data:", "blob:", "https://maps.example.com"]


def test_an_exempt_view_gets_no_policy() -> None:
    _, response = _respond(csp_exempt()(lambda request: HttpResponse()))

    assert HEADER not in response


@override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": ["'self'", NONCE]}})
def test_a_page_that_used_a_nonce_gets_it_in_its_policy() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(str(request.csp_nonce))  # type: ignore[attr-defined]

    _, response = _respond(view)

    assert _directives(response[HEADER])["script-src"] == ["'self'", f"'nonce-{response.content.decode()}'"]


def test_asking_for_a_nonce_after_the_header_is_written_is_an_error() -> None:
    from csp.exceptions import CSPNonceError

    request, _ = _respond()

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]


@override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'self'"]}, "EXCLUDE_URL_PREFIXES": ["/x"]})
def test_excluded_prefixes_get_no_policy() -> None:
    assert HEADER not in _respond(path="/x/y")[1]
    assert HEADER in _respond(path="/y")[1]
