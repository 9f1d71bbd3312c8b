"""Django's PostgreSQL backend with a health check that costs no round trip when nothing happened.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before the first query of every request that
reuses a connection, so that a request after a database restart reconnects instead of failing:
a round trip per request, as much as the token lookup of a cheap API answer. An idle connection
has nothing to say, though: when the server ends it (a restart, `pg_terminate_backend`, a crash),
the server's side closes, usually after a FATAL message, and the socket turns readable. So the
check first asks the kernel whether the idle socket is readable (a zero-timeout poll); only then
does it run Django's `SELECT 1`, which fails on a dead connection and makes Django reconnect.

A server that vanishes without closing its side (a host cut off the network) is not seen by the
poll; nor would `SELECT 1` see it before the TCP timeouts. The request's own query then fails and
`retail_platform.middleware` answers 503 and drops the connection, so the next request reconnects.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # Both attributes are Django's (4.1+), missing from django-stubs.
        if self.connection is None or not self.health_check_enabled or self.health_check_done:  # type: ignore[attr-defined,has-type]
            return
        if not self._idle_socket_is_quiet():
            super().close_if_health_check_failed()  # SELECT 1; closes the connection when it fails
        self.health_check_done = True

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
