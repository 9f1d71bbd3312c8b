"""`make run` as a newcomer runs it (scripts/run.sh, the development settings, nothing in the
environment but the database): anonymous callers never get a debug page, and the pages are served
with their static files."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from analytics.tests.factories import TransactionLineFactory
from conftest import worker_database_url
from tests.reliability.servers import PROJECT_DIR, free_port


@pytest.mark.django_db(transaction=True)
def test_make_run_shows_no_debug_page_to_anonymous_callers(tmp_path: Path) -> None:
    TransactionLineFactory()  # a database with data: load_demo leaves it as it is
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in ("DJANGO_SETTINGS_MODULE", "DEBUG")} | {
        "DATABASE_URL": worker_database_url(),
        "PORT": str(port),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "IMPORT_INBOX_DIR": str(tmp_path / "inbox"),
        "ADMIN_PASSWORD": "a-long-enough-password",
        "Q_WORKERS": "1",
    }
    log_path = tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                with contextlib.suppress(requests.RequestException):
                    login = requests.get(base + "/accounts/login/", timeout=10)
                    break
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"make run did not start: {log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.5)
            page = requests.get(base + "/no-such-page/", timeout=10)
            api = requests.get(base + "/api/no-such-endpoint", timeout=10)
            stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', login.text)
            styles = [requests.get(base + href, timeout=10).status_code for href in stylesheets]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)

    assert login.status_code == 200
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    for debug_text in ("URLconf", "DEBUG = True", "Traceback", "urlpatterns"):
        assert debug_text not in page.text, debug_text
    assert (api.status_code, api.json()["error"]["code"]) == (404, "not_found")
    assert stylesheets and styles == [200] * len(stylesheets)
