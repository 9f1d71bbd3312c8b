"""The web server's settings: read from the environment, the ones the Procfile runs, a master that
holds no database connection when it forks, and workers that connect before they accept and leave
at once when recycled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from retail_platform import gunicorn_conf

PROJECT_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _resolved(env: dict[str, str | None]) -> dict[str, str]:
    """gunicorn's settings as it resolves them with this configuration (None: the variable unset)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "retail_platform.settings.test", **env}
    result = subprocess.run(
        [str(GUNICORN), "--config", "python:retail_platform.gunicorn_conf", "--print-config", "retail_platform.wsgi"],
        cwd=PROJECT_DIR,
        env={name: value for name, value in environment.items() if value is not None},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    lines = (line.partition("=") for line in result.stdout.splitlines())
    return {name.strip(): value.strip() for name, _, value in lines if value}


def _setting(resolved: dict[str, str], name: str) -> str:
    return resolved[name]


def test_the_defaults_are_two_sync_workers_with_the_app_preloaded() -> None:
    resolved = _resolved({"PORT": None, "WEB_CONCURRENCY": None, "WEB_THREADS": None, "WEB_TIMEOUT": None})

    assert _setting(resolved, "bind") == "['0.0.0.0:8000']"
    assert _setting(resolved, "workers") == "2"
    assert _setting(resolved, "threads") == "1"
    assert _setting(resolved, "worker_class") == "sync"
    assert _setting(resolved, "timeout") == "120"
    assert _setting(resolved, "preload_app") == "True"
    assert _setting(resolved, "max_requests") == "10000"


def test_the_environment_sets_port_processes_threads_and_timeout() -> None:
    resolved = _resolved({"PORT": "9001", "WEB_CONCURRENCY": "3", "WEB_THREADS": "4", "WEB_TIMEOUT": "30"})

    assert _setting(resolved, "bind") == "['0.0.0.0:9001']"
    assert (_setting(resolved, "workers"), _setting(resolved, "threads")) == ("3", "4")
    assert _setting(resolved, "timeout") == "30"


def test_the_procfile_web_process_runs_this_configuration() -> None:
    web = next(line for line in (PROJECT_DIR / "Procfile").read_text().splitlines() if line.startswith("web:"))

    command = web.split("exec ", 1)[1].split()
    assert command == [
        "gunicorn",
        "--config",
        "python:retail_platform.gunicorn_conf",
        "retail_platform.wsgi:application",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_master_closes_its_database_connection_before_forking() -> None:
    connection.ensure_connection()

    gunicorn_conf.when_ready(server=None)

    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_a_new_worker_connects_before_its_first_request() -> None:
    connection.close()

    gunicorn_conf.post_worker_init(worker=None)

    assert connection.connection is not None
    assert connection.is_usable()


class _Exit(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_recycled_worker_closes_its_connection_and_leaves_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    codes: list[int] = []

    def exit_now(code: int) -> None:
        codes.append(code)
        raise _Exit

    monkeypatch.setattr(gunicorn_conf.os, "_exit", exit_now)
    connection.ensure_connection()

    with pytest.raises(_Exit):
        gunicorn_conf.worker_exit(server=None, worker=SimpleNamespace(booted=True, nr=10_500, max_requests=10_500))

    assert codes == [0]
    assert connection.connection is None


@pytest.mark.parametrize(
    "worker",
    [
        SimpleNamespace(booted=True, nr=12, max_requests=10_500),  # stopped (SIGTERM): a normal shutdown
        SimpleNamespace(booted=False, nr=0, max_requests=10_500),  # failed to boot: its exit status matters
    ],
)
def test_any_other_exit_takes_the_normal_way_out(worker: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gunicorn_conf.os, "_exit", lambda code: pytest.fail("left without the normal shutdown"))

    assert gunicorn_conf.worker_exit(server=None, worker=worker) is None
