"""Database URLs for the benchmarks: each benchmark uses its own database on the same server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """DATABASE_URL, or the embedded server's URL (started when needed)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = subprocess.run(
            [sys.executable, "-m", "retail_platform.embedded_db"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
    return url


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)
