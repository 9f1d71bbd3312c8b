"""The project's PostgreSQL backend: servers older than 15 are refused; the health check polls the
idle socket (no SELECT 1 while the connection is quiet, a reconnect once the server has ended it)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.backends.base import base as django_base
from django.db.backends.base.base import BaseDatabaseWrapper

from retail_platform.postgresql import base as postgresql_base

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wrapper() -> Iterator[BaseDatabaseWrapper]:
    """A connection of our own, outside the test's transaction, reused across 'requests'."""
    own = connections.create_connection("default")
    own.ensure_connection()
    assert own.health_check_enabled
    yield own
    own.close()


def _backend_pid(wrapper: BaseDatabaseWrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _next_request(wrapper: BaseDatabaseWrapper) -> None:
    # What close_if_unusable_or_obsolete does at each request's start, without CONN_MAX_AGE's closing.
    wrapper.health_check_done = False


def _count_select_1(wrapper: BaseDatabaseWrapper, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    original = type(wrapper).is_usable

    def spy(self: BaseDatabaseWrapper) -> bool:
        calls.append(result := original(self))
        return result

    monkeypatch.setattr(type(wrapper), "is_usable", spy)
    return calls


def _count_deadline_checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    original = postgresql_base.DatabaseWrapper._answers_within

    def spy(self: postgresql_base.DatabaseWrapper, seconds: float) -> bool:
        calls.append(result := original(self, seconds))
        return result

    monkeypatch.setattr(postgresql_base.DatabaseWrapper, "_answers_within", spy)
    return calls


def test_a_connection_in_steady_use_is_reused_without_a_round_trip(wrapper, monkeypatch) -> None:
    pid = _backend_pid(wrapper)
    checks = _count_select_1(wrapper, monkeypatch)
    deadline_checks = _count_deadline_checks(monkeypatch)

    for _ in range(3):
        _next_request(wrapper)
        assert _backend_pid(wrapper) == pid

    assert checks == []
    assert deadline_checks == []


def test_a_connection_quiet_for_a_while_is_asked_with_a_deadline_and_kept_when_it_answers(wrapper, monkeypatch) -> None:
    pid = _backend_pid(wrapper)
    deadline_checks = _count_deadline_checks(monkeypatch)
    time.sleep(postgresql_base.QUIET_CHECK_AFTER)

    _next_request(wrapper)

    assert _backend_pid(wrapper) == pid
    assert deadline_checks == [True]


def test_a_frozen_server_is_noticed_within_the_deadline_and_the_connection_replaced(wrapper, monkeypatch) -> None:
    """The server process behind the kept connection is stopped (SIGSTOP): it closes nothing and
    answers nothing, as a host cut off the network."""
    pid = _backend_pid(wrapper)
    monkeypatch.setattr(postgresql_base, "QUIET_CHECK_AFTER", 0.0)
    try:
        os.kill(pid, signal.SIGSTOP)
    except (PermissionError, ProcessLookupError):
        pytest.skip("the server's processes are not on this machine, or not ours to signal")
    try:
        _next_request(wrapper)
        started = time.monotonic()
        wrapper.close_if_health_check_failed()
        waited = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)

    assert wrapper.connection is None
    assert postgresql_base.ANSWER_WITHIN <= waited < postgresql_base.ANSWER_WITHIN + 1
    assert _backend_pid(wrapper) != pid  # the next query connects anew


def test_a_connection_the_server_ended_is_replaced_before_the_first_query(wrapper, monkeypatch) -> None:
    pid = _backend_pid(wrapper)
    checks = _count_select_1(wrapper, monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    socket = select.poll()
    socket.register(wrapper.connection.pgconn.socket, select.POLLIN)
    deadline = time.monotonic() + 10
    while not socket.poll(100) and time.monotonic() < deadline:
        pass  # the server tells the client asynchronously

    _next_request(wrapper)
    new_pid = _backend_pid(wrapper)  # no error: the health check reconnected first

    assert checks == [False]
    assert new_pid != pid


def test_a_connection_left_inside_a_transaction_gets_the_full_check(wrapper, monkeypatch) -> None:
    checks = _count_select_1(wrapper, monkeypatch)
    wrapper.connection.execute("BEGIN")

    _next_request(wrapper)
    wrapper.close_if_health_check_failed()

    assert checks == [True]
    wrapper.connection.execute("ROLLBACK")


def test_a_server_older_than_postgresql_15_is_refused_before_any_query(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real connection whose server reports 14.11: the connection is refused and closed."""
    monkeypatch.setattr(django_base, "RAN_DB_VERSION_CHECK", set())
    monkeypatch.setattr(postgresql_base.DatabaseWrapper, "get_database_version", lambda self: (14, 11))
    own = connections.create_connection("default")

    with pytest.raises(postgresql_base.UnsupportedServer) as refused:
        own.ensure_connection()

    assert "runs PostgreSQL 14.11; this project supports PostgreSQL 15, 16, 17 and 18." in str(refused.value)
    assert own.connection is None
    with pytest.raises(postgresql_base.UnsupportedServer):
        own.ensure_connection()  # and again on the next attempt: nothing reaches that server


@pytest.mark.parametrize("version", [(15, 0), (16, 4), (17, 2), (18, 1), (19, 0)])
def test_postgresql_15_and_later_are_accepted(monkeypatch: pytest.MonkeyPatch, version: tuple[int, int]) -> None:
    monkeypatch.setattr(django_base, "RAN_DB_VERSION_CHECK", set())
    monkeypatch.setattr(postgresql_base.DatabaseWrapper, "get_database_version", lambda self: version)
    own = connections.create_connection("default")

    own.ensure_connection()

    assert own.connection is not None
    own.close()


def test_the_first_command_on_an_older_server_stops_with_the_supported_versions_and_no_traceback() -> None:
    script = (
        "import sys; from retail_platform.postgresql import base; "
        "base.DatabaseWrapper.get_database_version = lambda self: (14, 11); "
        "sys.argv = ['manage.py', 'migrate', '--check']; import manage; manage.main()"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "retail_platform.settings.test"}

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith(
        "runs PostgreSQL 14.11; this project supports PostgreSQL 15, 16, 17 and 18. Upgrade the server, point "
        "DATABASE_URL at a supported one, or unset DATABASE_URL to use the embedded PostgreSQL."
    )


def test_the_server_under_test_is_a_supported_version() -> None:
    assert connection.pg_version // 10000 in postgresql_base.SUPPORTED_VERSIONS


def test_every_connection_sets_the_products_work_mem_whatever_the_servers_default() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting, source FROM pg_settings WHERE name = 'work_mem'")
        setting, source = cursor.fetchone()
    assert (int(setting), source) == (64 * 1024, "client")  # kB, set by the connection's options
