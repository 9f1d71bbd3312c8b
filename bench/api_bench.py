"""Analytics API benchmark: each analytics endpoint, unfiltered and with a date filter, against a
trivial authenticated DRF endpoint (`/api/ping`) under the same server in the same run.

    .venv/bin/python bench/api_bench.py [--lines 1000000] [--duration 10] [--connections 16] [--reload]

- Database `bench_analyticsapi` on the server of DATABASE_URL (the embedded one without it):
  created and migrated when missing, then loaded once through the real import path: a demo file of
  N lines (analytics.demo_data: ten malls, eight categories, three payment methods, customers who
  come back, discounts, cost, 2 % returns) imported by `import_transactions --sync --no-refit`,
  whose `aggregates` stage is `rollups_rebuild()`; `--reload` imports again. Then both rollups are
  rebuilt and timed here: `rollups_rebuild()` and `rollups_transactions_rebuild()` (the task queued
  after an import, which also precomputes the unfiltered answers).
- gunicorn with 2 workers of 4 threads (`--threads 1` for sync workers, as the Procfile runs) on a
  free localhost port, production settings (DEBUG off), a viewer
  user with a DRF token; the user throttle is raised so the benchmark measures the API, not 429s.
- wrk (`apt-get install -y wrk`; installed by this script when missing and run as root) with 16
  connections and 2 threads, `--latency`. Per case: one cold request first (its answer is not in
  any cache yet, unless it is an unfiltered one the rebuild precomputed), then /api/ping and the
  case, each a 2 s warm-up and a measured run, back to back so that the ratio compares runs made
  under the same machine load. Printed: req/s, ratio to ping (target >= 0.5), p99 (target
  < 50 ms), the web workers' CPU milliseconds per request for the case and for ping (what the
  worker itself spends, whatever else the machine is doing), and the web workers' peak resident
  memory (target < 200 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "bench_analyticsapi"
sys.path.insert(0, str(ROOT))
from bench_db import database_url, psycopg_url, with_database  # noqa: E402 (after the sys.path line)

ENDPOINTS = [
    "/api/overview",
    "/api/performance/stores",
    "/api/insights/seasonality",
    "/api/insights/discount-impact",
    "/api/customers/repeat-vs-onetime",
    "/api/insights/payment-methods",
]
DATE_FILTER = "?date_from=2022-01-01&date_to=2022-06-30"


def prepare_database(server_url: str, *, lines: int, reload: bool) -> str:
    """Create and migrate the bench database, and import N demo lines into it (once; again with --reload)."""
    import psycopg

    bench_url = with_database(server_url, BENCH_DB)
    with psycopg.connect(psycopg_url(with_database(server_url, "postgres")), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if exists and reload:
            connection.execute(f"DROP DATABASE {BENCH_DB}")
        if not exists or reload:
            connection.execute(f"CREATE DATABASE {BENCH_DB}")
    env = {**os.environ, "DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "retail_platform.settings.dev"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(psycopg_url(bench_url), autocommit=True) as connection:
        present = connection.execute("SELECT count(*) FROM analytics_transactionline").fetchone()[0]
    if present == lines:
        print(f"{BENCH_DB} already holds {lines:,} lines (--reload to import them again)")
        return bench_url
    if present:
        sys.exit(f"{BENCH_DB} holds {present:,} lines, not {lines:,}: run again with --reload.")

    from analytics.demo_data import demo_rows_write

    with tempfile.TemporaryDirectory() as directory:
        path = demo_rows_write(Path(directory) / "api_bench.csv", rows=lines, return_share=0.02)
        out = subprocess.run(
            [*manage, "import_transactions", str(path), "--sync", "--no-refit", "--json"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    outcome = json.loads(out.strip().splitlines()[-1])
    timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in outcome["timings"].items())
    print(f"imported {outcome['imported']:,} demo lines ({timings}); 'aggregates' is rollups_rebuild()")
    return bench_url


def rebuild_rollups(bench_url: str) -> None:
    """Run the transaction rollup rebuild the import queued (no worker runs here), and time both rollups."""
    import django

    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_platform.settings.dev")
    django.setup()
    from django.db import connection, transaction

    from analytics.services.rollups import rollups_rebuild, rollups_transactions_rebuild

    started = time.monotonic()
    with transaction.atomic():
        rollups_rebuild()
    daily = time.monotonic() - started
    started = time.monotonic()
    rollups_transactions_rebuild()
    transactions = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_salesdaily")
        cursor.execute("ANALYZE analytics_salestransaction")
        cursor.execute(
            "SELECT (SELECT count(*) FROM analytics_salesdaily), (SELECT count(*) FROM analytics_salestransaction)"
        )
        daily_rows, transaction_rows = cursor.fetchone()
    print(f"rollups_rebuild() (inside the import): {daily:.2f} s -> {daily_rows:,} day-level rows")
    print(
        f"rollups_transactions_rebuild() (queued after it; includes precomputing the unfiltered answers): "
        f"{transactions:.2f} s -> {transaction_rows:,} transactions"
    )
    connection.close()


def create_token(bench_url: str) -> str:
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from retail_platform.roles import VIEWER

    user, _ = User.objects.get_or_create(username="api-bench")
    user.groups.add(Group.objects.get(name=VIEWER))
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update"], check=True, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        return shutil.which("wrk") or sys.exit("wrk could not be installed")
    sys.exit("wrk is missing: install it with `apt-get install -y wrk` (Debian/Ubuntu) and run again.")


def _worker_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # peak resident set size
            return int(line.split()[1]) / 1024
    return 0.0


def _unit_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(wrk: str, url: str, token: str, *, duration: int, connections: int) -> tuple[float, float, int, int]:
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-H", f"Authorization: Token {token}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _unit_ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, p99, int(errors.group(1)) if errors else 0, requests


def _get(url: str, token: str) -> tuple[int, float]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (our own localhost server)
        response.read()
        return response.status, (time.monotonic() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each measured wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--threads", type=int, default=4, help="gunicorn threads per worker (the Procfile runs sync workers: 1)"
    )
    parser.add_argument("--reload", action="store_true", help="drop and load the bench database again")
    args = parser.parse_args()

    wrk = _ensure_wrk()
    bench_url = prepare_database(database_url(), lines=args.lines, reload=args.reload)
    rebuild_rollups(bench_url)
    token = create_token(bench_url)

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": "retail_platform.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "API_THROTTLE_USER": "1000000000/hour",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "retail_platform.wsgi:application",
            "--workers",
            "2",
            "--threads",
            str(args.threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                _get(base + "/api/ping", token)
                break
            except OSError:
                time.sleep(0.2)
        workers = _worker_pids(server.pid)
        print(
            f"gunicorn 2 workers x {args.threads} threads on {base}; "
            f"wrk {args.connections} connections, {args.duration} s per case\n"
        )

        def measure(url: str) -> tuple[float, float, int, float]:
            """req/s, p99 ms, errors, and the web workers' CPU ms per request (independent of the load)."""
            run_wrk(wrk, url, token, duration=2, connections=args.connections)  # warm-up
            cpu = _cpu_seconds(workers)
            rps, p99, errors, requests = run_wrk(wrk, url, token, duration=args.duration, connections=args.connections)
            return rps, p99, errors, (_cpu_seconds(workers) - cpu) * 1000 / max(requests, 1)

        print(
            f"{'case':<72} {'cold ms':>7} {'req/s':>6} {'ping':>6} {'ratio':>5} {'p99 ms':>6} "
            f"{'cpu ms':>6} {'ping':>5}  verdict"
        )
        failures = 0
        ping_p99s = []
        for path in ENDPOINTS:
            for query in ("", DATE_FILTER):
                url = base + path + query
                status, cold_ms = _get(url, token)
                # The baseline is measured right before each case: the ratio compares like with like
                # even when the machine's load drifts during the run.
                ping_rps, ping_p99, ping_errors, ping_cpu = measure(base + "/api/ping")
                ping_p99s.append(ping_p99)
                rps, p99, errors, cpu = measure(url)
                ok = status == 200 and errors == 0 and ping_errors == 0 and rps >= 0.5 * ping_rps and p99 < 50
                failures += not ok
                note = f" ({errors + ping_errors} errors)" if errors or ping_errors else ""
                print(
                    f"{path + query:<72} {cold_ms:>7.0f} {rps:>6.0f} {ping_rps:>6.0f} {rps / ping_rps:>5.2f} "
                    f"{p99:>6.1f} {cpu:>6.2f} {ping_cpu:>5.2f}  {'ok' if ok else 'MISSED'}{note}"
                )
        print(f"/api/ping p99 over the runs: {min(ping_p99s):.1f}-{max(ping_p99s):.1f} ms")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (the machine has {os.cpu_count()} cores)")
        rss = {pid: (_rss_mb(pid), _hwm_mb(pid)) for pid in workers}
        print()
        for pid, (now, peak) in rss.items():
            verdict = "ok" if peak < 200 else "MISSED"
            print(f"web worker {pid}: resident {now:.0f} MB, peak {peak:.0f} MB (target < 200 MB) {verdict}")
        failures += sum(peak >= 200 for _, peak in rss.values())
        print(f"\n{'all targets met' if not failures else f'{failures} target(s) missed'}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
