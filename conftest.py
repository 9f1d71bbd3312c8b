"""Shared fixtures: users in each role and API clients signed in as them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from rest_framework.test import APIClient

from analytics.models import ImportBatch
from analytics.services.import_batches import import_batch_create, import_batch_run
from retail_platform import charts
from retail_platform.roles import ANALYST, VIEWER


def _user(username: str, *, group: str | None = None, staff: bool = False) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    if group:
        # get_or_create: a transactional test's flush removes the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def viewer(db: None) -> User:
    return _user("viewer1", group=VIEWER)


@pytest.fixture
def analyst(db: None) -> User:
    return _user("analyst1", group=ANALYST)


@pytest.fixture
def staff(db: None) -> User:
    return _user("staff1", staff=True)


def _client(user: User | None) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    if user is not None:
        client.force_authenticate(user=user)
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return _client(None)


@pytest.fixture
def viewer_client(viewer: User) -> APIClient:
    return _client(viewer)


@pytest.fixture
def analyst_client(analyst: User) -> APIClient:
    return _client(analyst)


@pytest.fixture
def staff_client(staff: User) -> APIClient:
    return _client(staff)


# --- Importing a file through the real pipeline (every app's tests load data this way).


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def run_import(media, tmp_path) -> Callable[..., ImportBatch]:
    """Write `content` (text or bytes) to a file and import it synchronously; return the batch."""

    def run(content: str | bytes, *, name: str = "sales.csv", **create_kwargs: Any) -> ImportBatch:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding=create_kwargs.pop("encoding", "utf-8"))
        else:
            path.write_bytes(content)
        batch = import_batch_create(
            path_or_file=path, file_name=name, source=ImportBatch.Source.COMMAND, enqueue=False, **create_kwargs
        )
        return import_batch_run(batch_id=batch.id, queue_refit=False)

    return run


# --- A real django-q2 worker (`manage.py qcluster`) on the test database, for @pytest.mark.worker tests.


class QclusterWorker:
    """A `manage.py qcluster` subprocess in its own process group, pointed at the test database."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115  closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the whole cluster (sentinel, pusher, monitor and worker processes)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the cluster stops its own processes on SIGTERM
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill(signal.SIGKILL)  # whatever is left of the group, even when the parent exited
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._log.close()


def worker_database_url() -> str:
    """A DATABASE_URL for the database the tests run on (the test database, at test time)."""
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "", safe="") + (f":{db['PORT']}" if db.get("PORT") else "")
    return f"postgres://{auth}@{host}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def qcluster_worker_factory(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., QclusterWorker]]:
    """Start real workers: `start(**env)` adds environment variables (e.g. Q_TASK_TIMEOUT="20").

    The workers share the test database, MEDIA_ROOT and IMPORT_INBOX_DIR of the test; every worker
    started is stopped (its whole process group killed) at the end of the test.
    """
    workers: list[QclusterWorker] = []

    def start(**extra_env: str) -> QclusterWorker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "retail_platform.settings.test",
            "DATABASE_URL": worker_database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "IMPORT_INBOX_DIR": str(settings.IMPORT_INBOX_DIR),
            "Q_WORKERS": "1",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        worker = QclusterWorker(env, tmp_path / f"qcluster-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def qcluster_worker(qcluster_worker_factory: Callable[..., QclusterWorker]) -> QclusterWorker:
    """One real django-q2 worker on the test database, stopped after the test."""
    return qcluster_worker_factory()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Answers are cached by data version, and a test's rollback brings the version back to the same
    number: without this, one test could read the answer another test's data produced."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _validate_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages build their figures without plotly's validation (it is slow); every figure a test builds,
    in chart, view and browser tests alike, also goes through it and must come out the same."""
    monkeypatch.setattr(charts, "VALIDATE_FIGURES", True)
