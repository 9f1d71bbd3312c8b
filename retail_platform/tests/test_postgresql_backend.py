"""The health check polls the idle socket: no SELECT 1 while the connection is quiet, a reconnect
once the server has ended it."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

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


def test_a_quiet_connection_is_reused_without_a_round_trip(wrapper, monkeypatch) -> None:
    pid = _backend_pid(wrapper)
    checks = _count_select_1(wrapper, monkeypatch)

    for _ in range(3):
        _next_request(wrapper)
        assert _backend_pid(wrapper) == pid

    assert checks == []


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
