"""API rate limits for anonymous and signed-in callers. DRF reads the rates into a class attribute
when it is imported, so the tests patch that attribute rather than the settings."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from retail_platform.api import throttling

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "5/minute"})
    cache.clear()
    yield
    cache.clear()


def test_signed_in_user_is_throttled_past_the_user_rate(low_rates: None, viewer_client: APIClient) -> None:
    statuses = [viewer_client.get("/api/ping").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2


def test_throttled_answer_uses_the_error_shape_and_says_when_to_retry(
    low_rates: None, viewer_client: APIClient
) -> None:
    for _ in range(5):
        viewer_client.get("/api/ping")
    response = viewer_client.get("/api/ping")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_each_user_has_their_own_allowance(
    low_rates: None, viewer_client: APIClient, analyst_client: APIClient
) -> None:
    for _ in range(6):
        viewer_client.get("/api/ping")
    assert viewer_client.get("/api/ping").status_code == 429
    assert analyst_client.get("/api/ping").status_code == 200


def test_anonymous_callers_are_throttled_before_they_are_refused(low_rates: None, anon_client: APIClient) -> None:
    statuses = [anon_client.get("/api/ping").status_code for _ in range(5)]
    assert statuses[:3] == [403] * 3
    assert statuses[3:] == [429] * 2


def test_anonymous_throttle_keys_on_the_address_not_a_made_up_header(low_rates: None) -> None:
    statuses = [
        APIClient(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").get("/api/ping").status_code
        for n in range(5)
    ]
    assert statuses[3:] == [429] * 2


def test_the_counter_starts_again_in_the_next_window(low_rates: None, viewer_client: APIClient, monkeypatch) -> None:
    clock = [1_000_020.0]
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", lambda self: clock[0])
    for _ in range(5):
        assert viewer_client.get("/api/ping").status_code == 200
    assert viewer_client.get("/api/ping").status_code == 429
    clock[0] += 60
    assert viewer_client.get("/api/ping").status_code == 200


def test_the_defaults_throttle_every_endpoint() -> None:
    from rest_framework.settings import api_settings

    assert {cls.__name__ for cls in api_settings.DEFAULT_THROTTLE_CLASSES} == {"AnonRateThrottle", "UserRateThrottle"}
    assert all(issubclass(cls, SimpleRateThrottle) for cls in api_settings.DEFAULT_THROTTLE_CLASSES)
