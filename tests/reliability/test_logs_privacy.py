"""Logs carry no customer data and no secrets.

Everything the application logs at the production level (INFO) is captured while it imports a
file (good rows and bad), answers customer-level API calls signed in with a token, and lets people
sign in and fail to; then the captured text is searched for customer ids, passwords and the token.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from analytics.models import ImportBatch
from analytics.services.import_batches import import_batch_create, import_batch_run
from tests.reliability.data import MALL_HEADER, MARKER_CUSTOMERS, sample_data_create

pytestmark = pytest.mark.django_db

BAD_ROW_CUSTOMER = "C955555"


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def _all_logged_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def _import_a_file_with_a_bad_row(directory: Path) -> ImportBatch:
    path = directory / "bad.csv"
    path.write_text(
        ",".join(MALL_HEADER) + "\n" + f"I9,{BAD_ROW_CUSTOMER},Female,33,Books,1,15.15,Cash,31/31/2023,Kanyon\n",
        encoding="utf-8",
    )
    batch = import_batch_create(
        path_or_file=path, file_name=path.name, source=ImportBatch.Source.COMMAND, enqueue=False
    )
    return import_batch_run(batch_id=batch.id, queue_refit=False)


def test_imports_api_calls_and_logins_log_no_customer_data_or_secrets(
    captured: pytest.LogCaptureFixture, media_root: Path, tmp_path: Path, analyst: User
) -> None:
    sample_data_create(directory=tmp_path)
    failed = _import_a_file_with_a_bad_row(tmp_path)
    assert failed.status == ImportBatch.Status.FAILED
    assert BAD_ROW_CUSTOMER in str(failed.errors) or "31/31/2023" in str(failed.errors)  # kept for the report

    token = Token.objects.create(user=analyst).key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/customers/rfm-segments").status_code == 200
    assert api.get("/api/no-such-endpoint").status_code == 404
    APIClient().get("/api/customers/rfm-segments", HTTP_AUTHORIZATION="Token not-a-real-token-0123456789")

    with override_settings(AXES_ENABLED=True):
        for password in ("wrong-password-1", "wrong-password-2", "pw-analyst1"):
            Client().post("/accounts/login/", {"username": "analyst1", "password": password})

    logged = _all_logged_text(captured)
    assert captured.records, "nothing was logged: the capture is not working"
    leaks = [value for value in [*MARKER_CUSTOMERS, BAD_ROW_CUSTOMER] if value in logged]
    leaks += [secret for secret in (token, "not-a-real-token-0123456789") if secret in logged]
    leaks += [password for password in ("wrong-password-1", "wrong-password-2", "pw-analyst1") if password in logged]
    assert leaks == [], f"found in the logs: {leaks}\n{logged[:2000]}"


def test_the_capture_would_see_a_leak(captured: pytest.LogCaptureFixture) -> None:
    logging.getLogger("analytics").info("imported customer %s", MARKER_CUSTOMERS[0])
    assert MARKER_CUSTOMERS[0] in _all_logged_text(captured)


def test_sql_is_not_logged_in_production_settings() -> None:
    from django.conf import settings

    assert settings.LOGGING["loggers"]["django.db.backends"]["level"] == "WARNING"
    assert settings.LOGGING["root"]["level"] in ("INFO", "WARNING")
