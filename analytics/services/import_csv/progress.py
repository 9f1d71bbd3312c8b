"""Progress of a running import, written where pages can see it while the import transaction is open.

The import is one long transaction, so its own writes stay invisible until it commits. Progress goes
through a second, autocommit connection instead. It is best effort: a failure here is logged and
never fails the import, and every statement gives up quickly rather than wait on a lock.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from django.db import connection

logger = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 0.5


class ProgressWriter:
    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        self._connection: psycopg.Connection[Any] | None = None
        self._broken = False
        self._last_write = 0.0
        self._last: tuple[str, int] | None = None

    def _connect(self) -> psycopg.Connection[Any] | None:
        if self._connection is None and not self._broken:
            try:
                params = connection.get_connection_params()
                keep = ("dbname", "user", "password", "host", "port", "sslmode", "connect_timeout", "options")
                kwargs = {key: value for key, value in params.items() if key in keep}
                kwargs["options"] = "-c lock_timeout=200 -c statement_timeout=2000"
                self._connection = psycopg.connect(autocommit=True, **kwargs)
            except Exception:
                logger.warning("Import progress is not shown: no second database connection", exc_info=True)
                self._broken = True
        return self._connection

    def update(self, stage: str, progress: int, *, force: bool = False) -> None:
        """Record the stage and its percent done (throttled, except when the stage changes or `force`)."""
        progress = max(0, min(100, int(progress)))
        now = time.monotonic()
        stage_changed = self._last is None or self._last[0] != stage
        if (stage, progress) == self._last or (
            not force and not stage_changed and now - self._last_write < MIN_INTERVAL_SECONDS
        ):
            return
        conn = self._connect()
        if conn is None:
            return
        try:
            conn.execute(
                "UPDATE analytics_importbatch SET stage = %s, progress = %s WHERE id = %s",
                [stage, progress, self.batch_id],
            )
            self._last = (stage, progress)
            self._last_write = now
        except Exception:
            logger.warning("Could not record import progress for batch %s", self.batch_id, exc_info=True)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                logger.debug("Closing the progress connection failed", exc_info=True)
            self._connection = None
