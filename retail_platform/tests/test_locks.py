"""The data-write lock serialises writers across connections (PostgreSQL advisory lock)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from analytics.models import Store
from retail_platform.locks import DATA_WRITE_LOCK_KEY, data_write_lock

HOLD_SECONDS = 1.5


def test_the_lock_needs_a_transaction() -> None:
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        data_write_lock()


def _waiting_for_the_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted",
            [DATA_WRITE_LOCK_KEY],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_waits_and_then_sees_the_whole_first_write() -> None:
    """An import (writer A) holds the lock while it writes 50 stores; a refit (writer B) that starts
    meanwhile waits, and then sees all 50, never a part."""
    a_has_lock = threading.Event()
    a_committing_at: list[float] = []
    b_result: dict[str, float | int] = {}

    def import_like() -> None:
        try:
            with transaction.atomic():
                data_write_lock()
                a_has_lock.set()
                for n in range(50):
                    Store.objects.create(name=f"Store {n}")
                    if n == 25:
                        time.sleep(HOLD_SECONDS)
                a_committing_at.append(time.monotonic())
        finally:
            connections.close_all()

    def refit_like() -> None:
        try:
            a_has_lock.wait(10)
            asked = time.monotonic()
            with transaction.atomic():
                data_write_lock()
                b_result.update(got=time.monotonic(), asked=asked, stores=Store.objects.count())
        finally:
            connections.close_all()

    writer_a = threading.Thread(target=import_like)
    writer_b = threading.Thread(target=refit_like)
    writer_a.start()
    writer_b.start()
    deadline = time.monotonic() + 10
    seen_waiting = 0
    while writer_b.is_alive() and time.monotonic() < deadline and not seen_waiting:
        seen_waiting = _waiting_for_the_lock()
        time.sleep(0.05)
    writer_a.join(15)
    writer_b.join(15)

    assert seen_waiting == 1  # PostgreSQL shows writer B queued on the advisory lock
    assert b_result["got"] >= a_committing_at[0]
    assert b_result["got"] - b_result["asked"] >= HOLD_SECONDS / 2
    assert b_result["stores"] == 50


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_released_at_rollback() -> None:
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        data_write_lock()
        _ = 1 / 0

    acquired: list[bool] = []

    def other_connection() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [DATA_WRITE_LOCK_KEY])
                acquired.append(cursor.fetchone()[0])
                cursor.execute("SELECT pg_advisory_unlock(%s)", [DATA_WRITE_LOCK_KEY])
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_connection)
    thread.start()
    thread.join(10)
    assert acquired == [True]
