"""Waiting for the embedded server: its postmaster.pid as PostgreSQL writes it, a real process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from retail_platform.embedded_db import EmbeddedServerError, server_ready_wait


def _postmaster_pid(data_dir: Path, pid: int, status: str) -> None:
    # Lines: pid, data directory, start time, port, socket directory, listen address, shared memory
    # key, status (PostgreSQL's LOCK_FILE_LINE_PM_STATUS).
    lines = [str(pid), str(data_dir), "1796657893", "5432", str(data_dir), "", "  5384414    426009", status]
    (data_dir / "postmaster.pid").write_text("\n".join(lines) + "\n")


@pytest.fixture
def process():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield sleeper
    sleeper.kill()
    sleeper.wait()


def test_a_server_in_recovery_is_waited_for_until_it_is_ready(tmp_path: Path, process) -> None:
    _postmaster_pid(tmp_path, process.pid, "starting")
    ready = threading.Timer(0.6, _postmaster_pid, (tmp_path, process.pid, "ready"))
    ready.start()
    started = time.monotonic()

    server_ready_wait(tmp_path, seconds=10, poll=0.05)

    assert time.monotonic() - started >= 0.5
    ready.join()


def test_a_server_that_stays_in_recovery_past_the_time_says_so_with_its_log(tmp_path: Path, process) -> None:
    _postmaster_pid(tmp_path, process.pid, "starting")
    (tmp_path / "log").write_text("LOG:  redo starts at 1/B8A95FD0\nLOG:  redo in progress, elapsed time: 10.00 s\n")

    with pytest.raises(EmbeddedServerError, match="still 'starting' after 0 s") as raised:
        server_ready_wait(tmp_path, seconds=0.2, poll=0.05)

    assert "redo in progress" in str(raised.value)


def test_a_server_whose_process_is_gone_did_not_start(tmp_path: Path, process) -> None:
    process.kill()
    process.wait()
    _postmaster_pid(tmp_path, process.pid, "starting")
    (tmp_path / "log").write_text("FATAL:  could not map anonymous shared memory\n")

    with pytest.raises(EmbeddedServerError, match="did not start") as raised:
        server_ready_wait(tmp_path, seconds=10, poll=0.05)

    assert "could not map anonymous shared memory" in str(raised.value)


def test_no_postmaster_pid_file_means_no_server(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedServerError, match="did not start"):
        server_ready_wait(tmp_path, seconds=10, poll=0.05)
