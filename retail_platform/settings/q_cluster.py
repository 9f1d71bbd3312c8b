"""django-q2: the ORM broker on our PostgreSQL (no Redis to run).

The ORM broker delivers a task again when it is not acknowledged within `retry` seconds, so
`retry` stays well above `timeout`: a long import is never started twice while it still runs.
A worker killed by SIGKILL stores no result and its task comes back; the import counts its
attempts on the batch and gives up after IMPORT_MAX_ATTEMPTS (see analytics.services).
"""

import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()

Q_TASK_TIMEOUT = _env.int("Q_TASK_TIMEOUT", default=1800)
Q_TASK_RETRY = _env.int("Q_TASK_RETRY", default=Q_TASK_TIMEOUT + 300)
if Q_TASK_RETRY <= Q_TASK_TIMEOUT:
    raise ImproperlyConfigured(
        f"Q_TASK_RETRY ({Q_TASK_RETRY} s) must be above Q_TASK_TIMEOUT ({Q_TASK_TIMEOUT} s): the queue would hand "
        "a task that is still running to a second worker."
    )

Q_CLUSTER = {
    "name": "retail",
    "orm": "default",
    "workers": _env.int("Q_WORKERS", default=2),
    "timeout": Q_TASK_TIMEOUT,
    "retry": Q_TASK_RETRY,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 0.5,
    "label": "Task queue",
}
