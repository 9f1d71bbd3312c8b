"""How the `web` process serves the app: gunicorn's settings, read by the Procfile and the benchmarks.

    gunicorn --config python:retail_platform.gunicorn_conf retail_platform.wsgi:application

Every setting comes from the environment (see `.env.example`); a command-line option still wins.

- Sync workers (`WEB_THREADS=1`): one request at a time per process. Measured against threads and
  keep-alive (README, Benchmarks -> API and Soak), they give the lowest tail latency for the API
  (the kernel's accept queue hands each connection to whichever process is free) and no errors in
  the soak; a request waiting on a long query then holds a process, so the proxy in front keeps
  the connections to its clients and queues.
- The app is loaded, and its URLconf imported, in the master before the workers fork
  (`preload_app`): a worker that `max_requests` recycles starts answering at once instead of
  spending a second or two of CPU importing while the other worker carries all the traffic.
  No database connection is opened there (closed anyway before forking, so that no two processes
  ever share one). A new worker connects before it accepts its first request, so no request
  waits on that, and a recycled worker leaves without tearing down its interpreter (that took
  about 0.3 s, during which the master had not started its replacement yet).
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("WEB_THREADS", 1)
timeout = _int("WEB_TIMEOUT", 120)
graceful_timeout = 30
# Recycle a worker now and then, so that a slow leak never grows without bound.
max_requests = 10000
max_requests_jitter = 1000
preload_app = True
# When the access log is on (`--access-logfile -`, as `make run` has it): the method, the path
# without its query string, the status, the size and the time taken. No query string (it can hold a
# customer id), no client address, referer or user agent: the logs hold no personal data.
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def when_ready(server: Any) -> None:
    """In the master, after the app is loaded and before any worker forks."""
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view, once, for all workers)
    connections.close_all()


def post_worker_init(worker: Any) -> None:
    """In a new worker, before it accepts: the database connection its first request will use."""
    from django.db import connection

    connection.ensure_connection()


def worker_exit(server: Any, worker: Any) -> None:
    """A worker recycled after max_requests closes its connection and leaves at once.

    Any other exit (a stop, a failed boot) runs the interpreter's normal shutdown and exit status.
    """
    if not (worker.booted and worker.nr >= worker.max_requests):
        return
    from django.db import connections

    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
