"""Django's PostgreSQL backend, for the PostgreSQL versions the project supports, with a health check
that costs no round trip for a connection in steady use.

Supported: PostgreSQL 15, 16, 17 and 18 (CI runs the suite on 18 and 15). On an older server the
first connection fails with `UnsupportedServer`, whose message names them; `manage.py` prints it
and exits (no traceback), so the first command that touches the database stops there.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before the first query of every request that
reuses a connection, so that a request after a database restart reconnects instead of failing:
a round trip per request, as much as the token lookup of a cheap API answer. An idle connection
has nothing to say, though: when the server ends it (a restart, `pg_terminate_backend`, a crash),
the server's side closes, usually after a FATAL message, and the socket turns readable. So the
check first asks the kernel whether the idle socket is readable (a zero-timeout poll); only then
does it run Django's `SELECT 1`, which fails on a dead connection and makes Django reconnect.

A server that vanishes without closing its side (a host cut off the network, a frozen server) is
not seen by the poll, and a plain SELECT 1 would wait for it as long as TCP does. So a connection
that has been quiet for a second or more is asked SELECT 1 with a deadline of a second
(`QUIET_CHECK_AFTER`, `ANSWER_WITHIN`); without an answer it is closed, the request's query
connects anew, fails within DB_CONNECT_TIMEOUT, and `retail_platform.middleware` answers 503. A
server lost in the middle of a burst of requests is not noticed that way: the query in flight waits
for TCP.
"""

from __future__ import annotations

import select
import time

from django.db import NotSupportedError
from django.db.backends.postgresql import base, features

from retail_platform.postgresql.creation import DatabaseCreation

SUPPORTED_VERSIONS = (15, 16, 17, 18)
# A connection kept quiet this long since its last request is asked SELECT 1 before it is used, and
# given this long to answer: a server cut off by the network, or frozen, sends nothing and closes
# nothing, so only a question with a deadline tells it from a quiet one (then the request's own
# query, on a new connection, fails within DB_CONNECT_TIMEOUT). A worker busy with back-to-back
# requests skips the round trip.
QUIET_CHECK_AFTER = 1.0  # seconds
ANSWER_WITHIN = 1.0  # seconds


class UnsupportedServer(NotSupportedError):
    """The server is older than the oldest PostgreSQL version the project supports."""


class DatabaseFeatures(features.DatabaseFeatures):
    minimum_database_version = (SUPPORTED_VERSIONS[0],)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    creation_class = DatabaseCreation  # test databases on a Citus cluster too

    def check_database_version_supported(self) -> None:
        """Refuse a server older than PostgreSQL 15, naming the versions supported. Runs once a
        server has passed (Django's), on every new connection until then: the connection is closed
        before raising, so no query ever reaches an unsupported server."""
        found = self.get_database_version()
        if found >= (SUPPORTED_VERSIONS[0],):
            return
        raw, self.connection = self.connection, None
        if raw is not None:
            raw.close()
        where = self.settings_dict.get("HOST") or "the default socket"
        if self.settings_dict.get("PORT"):
            where += f":{self.settings_dict['PORT']}"
        versions = ", ".join(str(version) for version in SUPPORTED_VERSIONS[:-1]) + f" and {SUPPORTED_VERSIONS[-1]}"
        raise UnsupportedServer(
            f"The database server ({where}) runs PostgreSQL {'.'.join(map(str, found))}; this project supports "
            f"PostgreSQL {versions}. Upgrade the server, point DATABASE_URL at a supported one, or unset "
            "DATABASE_URL to use the embedded PostgreSQL."
        )

    def close_if_health_check_failed(self) -> None:
        # Both attributes are Django's (4.1+), missing from django-stubs.
        if self.connection is None or not self.health_check_enabled or self.health_check_done:  # type: ignore[attr-defined,has-type]
            return
        if not self._idle_socket_is_quiet():
            super().close_if_health_check_failed()  # SELECT 1; closes the connection when it fails
        elif time.monotonic() - self._last_checked >= QUIET_CHECK_AFTER and not self._answers_within(ANSWER_WITHIN):
            self.close()  # the next query connects anew, within DB_CONNECT_TIMEOUT
        self._last_checked = time.monotonic()
        self.health_check_done = True

    _last_checked = 0.0  # when this connection was made or last checked: its last request's start

    def init_connection_state(self) -> None:
        super().init_connection_state()
        self._last_checked = time.monotonic()

    def _idle_socket_is_quiet(self) -> bool:
        """True when the connection looks alive and the server sent nothing since the last answer."""
        from psycopg import pq

        connection = self.connection
        if connection.closed or connection.pgconn.status != pq.ConnStatus.OK:
            return False
        if connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(connection.pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)

    def _answers_within(self, seconds: float) -> bool:
        """Whether the server answers SELECT 1 within `seconds`, asked through libpq directly so that
        the wait has a deadline (psycopg's own waits have none)."""
        from psycopg import pq

        pgconn = self.connection.pgconn
        deadline = time.monotonic() + seconds
        try:
            pgconn.send_query(b"SELECT 1")
            while pgconn.flush():  # the query waits in libpq's buffer (non-blocking connection)
                if not _wait(pgconn.socket, select.POLLOUT, deadline):
                    return False
            while True:
                pgconn.consume_input()
                while not pgconn.is_busy():
                    result = pgconn.get_result()
                    if result is None:
                        return True
                    if result.status != pq.ExecStatus.TUPLES_OK:
                        return False
                if not _wait(pgconn.socket, select.POLLIN | select.POLLPRI, deadline):
                    return False
        except Exception:  # a connection error of any kind: not usable
            return False


def _wait(fd: int, events: int, deadline: float) -> bool:
    """Wait for `events` on `fd` until `deadline` (time.monotonic()); False when it passed first."""
    poller = select.poll()
    poller.register(fd, events)
    remaining = deadline - time.monotonic()
    return remaining > 0 and bool(poller.poll(remaining * 1000))
