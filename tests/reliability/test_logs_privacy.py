"""Logs carry no customer data and no secrets.

Everything the application logs at the production level (INFO) is captured while it imports a
file (good rows and bad), answers customer-level API calls signed in with a token, and lets people
sign in and fail to; then the captured text is searched for customer ids, passwords and the token.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from analytics.models import ImportBatch
from analytics.services.import_batches import import_batch_create, import_batch_run
from conftest import worker_database_url
from tests.reliability.data import MALL_HEADER, MARKER_CUSTOMERS, sample_data_create
from tests.reliability.servers import gunicorn

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


# --- The same under a real gunicorn, with its access log on (as `make run` has it) ----------------------------

CLIENT_ADDRESS = "127.0.0.2"  # loopback too, but not the address gunicorn itself listens on
QUERY_CUSTOMER = "C123456"
LOCKED_OUT = "lockout-victim"


class _FromClientAddress(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (CLIENT_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


def _session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", _FromClientAddress())
    return session


def _fail_to_sign_in(session: requests.Session, base: str) -> int:
    session.get(base + "/accounts/login/", timeout=10)
    response = session.post(
        base + "/accounts/login/",
        data={
            "username": LOCKED_OUT,
            "password": "not-the-password",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": base + "/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    return response.status_code


@pytest.mark.django_db(transaction=True)
def test_a_real_lockout_and_query_strings_leave_no_username_address_or_customer_id_in_the_logs(
    analyst: User, tmp_path: Path
) -> None:
    User.objects.create_user(LOCKED_OUT, password="the-password")
    token = Token.objects.create(user=analyst).key
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retail_platform.settings.test",
        "DATABASE_URL": worker_database_url(),
        "AXES_ENABLED": "true",
        "LOG_LEVEL": "INFO",
    }
    log_path = tmp_path / "gunicorn.log"

    with gunicorn(env, log_path, "--access-logfile", "-") as base:
        session = _session()
        statuses = [_fail_to_sign_in(session, base) for _ in range(6)]
        api = _session()
        api.headers["Authorization"] = f"Token {token}"
        export = api.get(f"{base}/api/customers/export?segment=Champions&customer={QUERY_CUSTOMER}", timeout=30)
        unknown = api.get(f"{base}/api/no-such-endpoint?customer={QUERY_CUSTOMER}", timeout=30)

    logged = log_path.read_text(errors="replace")
    assert statuses == [200, 200, 200, 200, 429, 429], statuses  # locked out after 5 failures: a real lockout
    assert "AXES: Locking out" in logged and "********************" in logged, logged[-3000:]
    assert (export.status_code, unknown.status_code) == (404, 404)  # (no segmentation yet)
    assert '"GET /api/customers/export HTTP/1.1" 404' in logged  # the access log names the path ...
    assert "Not Found: /api/no-such-endpoint" in logged
    leaks = [text for text in (LOCKED_OUT, CLIENT_ADDRESS, QUERY_CUSTOMER, "segment=", token) if text in logged]
    assert leaks == [], f"found in the logs: {leaks}\n{logged[-3000:]}"  # ... without its query string
