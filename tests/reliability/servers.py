"""A real gunicorn for the reliability tests: the Procfile's configuration, on a free port, with
everything it logs captured in one file."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from django.conf import settings

PROJECT_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log_path: Path, *options: str) -> Iterator[str]:
    """Start gunicorn as the Procfile does (`retail_platform/gunicorn_conf.py`), one worker on a free
    local port, plus `options`; yield its base URL; stop it."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "--config",
                "python:retail_platform.gunicorn_conf",
                "retail_platform.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                *options,
            ],
            cwd=PROJECT_DIR,
            env={"PYTHONUNBUFFERED": "1", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.RequestException):
                    requests.get(base + "/accounts/login/", timeout=10)
                    break
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"gunicorn did not start: {log_path.read_text(errors='replace')[-2000:]}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
