"""Analytics API benchmark: each analytics endpoint, unfiltered and with a date filter, and three
comparisons of two ranges inside the data, against a trivial authenticated DRF endpoint
(`/api/ping`) under the same server in the same run.

    .venv/bin/python bench/api_bench.py [--lines 1000000] [--duration 10] [--connections 16] [--reload]

- Database `bench_analyticsapi` on the server of DATABASE_URL (the embedded one without it):
  created and migrated when missing, then loaded once through the real import path: a demo file of
  N lines (analytics.demo_data: ten malls, eight categories, three payment methods, customers who
  come back, discounts, cost, 2 % returns) imported by `import_transactions --sync --no-refit`,
  whose `aggregates` stage brings the read model up to date and computes the unfiltered answers;
  `--reload` imports again.
- gunicorn as the Procfile runs it (`--config python:retail_platform.gunicorn_conf`: sync workers,
  the app preloaded, `max_requests` recycling) with 2 workers (`--threads N` for gthread workers
  instead) on a free localhost port, production settings (DEBUG off), a viewer user with a DRF
  token; the user throttle is raised so the benchmark measures the API, not 429s.
- wrk (`apt-get install -y wrk`; installed by this script when missing and run as root) with 16
  connections and 2 threads, `--latency`. Per case: one cold request first (its answer is not in
  any cache yet, unless it is an unfiltered one the import computed), then the case and
  /api/ping, each a 2 s warm-up and a measured run; /api/ping is measured before the first case
  and after every case, and each case is compared with the mean of the ping runs around it, so the
  ratio compares runs made under the same machine load. Printed per case: req/s, ping req/s, the
  ratio (target >= 0.5), p50 and p99 (target < 50 ms) and ping's p99 (and the cold request: for
  cohorts and revenue change, target < 300 ms), the web workers' CPU
  milliseconds per request for the case and for ping (what the worker itself spends, whatever
  else the machine is doing), and the load average; then ping's range over the run, and the web
  workers' peak resident memory (target < 200 MB), recycled workers included.
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
from dataclasses import dataclass, replace
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
    "/api/cohorts",
    "/api/overview?compare=previous_year",
    # Two periods of its own (a date filter means nothing to it): the second quarter of 2022 against the first.
    "/api/insights/revenue-change?a_from=2022-01-01&a_to=2022-03-31&b_from=2022-04-01&b_to=2022-06-30",
]
DATE_FILTER = "date_from=2022-01-01&date_to=2022-06-30"
# Comparisons whose two ranges both lie inside the data (neither from its first day nor to its last):
# each range's customers and transactions are counted from the transactions, the costliest case.
INSIDE_COMPARISONS = [
    f"{path}?compare=previous_period&date_from=2022-07-01&date_to=2022-12-31"
    for path in ("/api/overview", "/api/performance/stores", "/api/customers/repeat-vs-onetime")
]
# Issue 15's new endpoints (cohorts, revenue change) must also answer cold in under 300 ms. A
# comparison (`compare=` on any endpoint) is the endpoint's answer for two ranges: its cold time is
# printed, against no target of its own.
COLD_TARGET_MS = 300


def _cold_target(case_path: str) -> bool:
    return any(part in case_path for part in ("/api/cohorts", "revenue-change"))


def _cases() -> list[str]:
    """Every endpoint unfiltered and with DATE_FILTER (revenue change has periods of its own), then
    INSIDE_COMPARISONS."""
    cases = []
    for path in ENDPOINTS:
        for query in ("", DATE_FILTER) if "revenue-change" not in path else ("",):
            cases.append(path + ("&" if "?" in path else "?") + query if query else path)
    return cases + INSIDE_COMPARISONS


# The Procfile's `web` command without its `--bind` (see retail_platform/gunicorn_conf.py).
GUNICORN = [
    str(ROOT / ".venv/bin/gunicorn"),
    "--config",
    "python:retail_platform.gunicorn_conf",
    "retail_platform.wsgi:application",
]


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
    print(f"imported {outcome['imported']:,} demo lines ({timings}); 'aggregates' is the read model's increment")
    return bench_url


def analyze(bench_url: str) -> None:
    """Fresh planner statistics of the read model (autovacuum would take them a little later)."""
    import psycopg

    with psycopg.connect(psycopg_url(bench_url), autocommit=True) as connection:
        for table in ("analytics_salesdaily", "analytics_salestransaction", "analytics_customersummary"):
            connection.execute(f"ANALYZE {table}")


def create_token(bench_url: str) -> str:
    import django

    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_platform.settings.dev")
    django.setup()
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


def _status_mb(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status (VmRSS: resident now, VmHWM: peak resident), 0 once it exited."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0.0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _unit_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _ticks(pid: int, *fields: int) -> int:
    """Fields of /proc/PID/stat counted after the command name (0: the state), summed; 0 once reaped."""
    try:
        values = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    return sum(int(values[field]) for field in fields)


def _cpu_seconds(master: int) -> float:
    """User + system CPU time used so far by the master's workers, those recycled included.

    `max_requests` replaces workers during the run; the master reaps them, and a process's
    cutime/cstime hold the CPU time of its reaped children. A worker reaped while its siblings are
    read would be counted twice or not at all: read again until the reaped total stands still.
    """
    while True:
        reaped = _ticks(master, 13, 14)  # cutime, cstime
        running = sum(_ticks(pid, 11, 12) for pid in _worker_pids(master))  # utime, stime
        if _ticks(master, 13, 14) == reaped:
            return (reaped + running) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One measured wrk run: throughput, latency, failures and the web workers' CPU per request."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors
    cpu_ms: float


def run_wrk(
    wrk: str, url: str, token: str, *, duration: int, connections: int, options: tuple[str, ...] = ()
) -> tuple[Run, int]:
    """wrk's rate, latencies and failures (`options`: more of wrk's, e.g. a script or a timeout)."""
    out = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            *options,
            "-H",
            f"Authorization: Token {token}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _unit_ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = _unit_ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = (int(errors.group(1)) if errors else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return Run(rps, p50, p99, failures, 0.0), requests


def _get(url: str, token: str) -> tuple[int, float]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (our own localhost server)
        response.read()
        return response.status, (time.monotonic() - started) * 1000


def _load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each measured wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--threads", type=int, help="gunicorn threads per worker instead of the Procfile's (WEB_THREADS, 1: sync)"
    )
    parser.add_argument("--reload", action="store_true", help="drop and load the bench database again")
    args = parser.parse_args()

    wrk = _ensure_wrk()
    bench_url = prepare_database(database_url(), lines=args.lines, reload=args.reload)
    analyze(bench_url)
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
        "WEB_CONCURRENCY": "2",  # the two workers, whatever this machine's environment says
    }
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    # The Procfile's `web` command, on a free localhost port.
    server = subprocess.Popen([*GUNICORN, "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                _get(base + "/api/ping", token)
                if len(_worker_pids(server.pid)) == int(env["WEB_CONCURRENCY"]):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        workers = _worker_pids(server.pid)
        peak_mb: dict[int, float] = {}
        threads = env.get("WEB_THREADS", "1")
        print(
            f"gunicorn as the Procfile runs it ({' '.join(GUNICORN[1:])}): {len(workers)} workers x {threads} "
            f"thread(s) on {base}; wrk {args.connections} connections, {args.duration} s per run; "
            f"load average {_load():.1f} on {os.cpu_count()} cores\n"
        )

        def measure(url: str) -> Run:
            run_wrk(wrk, url, token, duration=2, connections=args.connections)  # warm-up
            cpu = _cpu_seconds(server.pid)
            run, requests = run_wrk(wrk, url, token, duration=args.duration, connections=args.connections)
            for pid in _worker_pids(server.pid):
                peak_mb[pid] = max(peak_mb.get(pid, 0.0), _status_mb(pid, "VmHWM"))
            return replace(run, cpu_ms=(_cpu_seconds(server.pid) - cpu) * 1000 / max(requests, 1))

        print(
            f"{'case':<72} {'cold ms':>7} {'req/s':>6} {'ping':>6} {'ratio':>5} {'p50':>5} {'p99':>6} "
            f"{'ping p99':>8} {'cpu ms':>6} {'ping':>5} {'load':>4}  verdict"
        )
        failures = 0
        pings: list[Run] = []
        # Ping runs before and after each case (the one after is the next case's before): the ratio
        # compares the case with the mean of the two, so a drift of the machine's load cancels out.
        ping_before = measure(base + "/api/ping")
        pings.append(ping_before)
        for case_path in _cases():
            url = base + case_path
            status, cold_ms = _get(url, token)
            load = _load()
            case = measure(url)
            ping_after = measure(base + "/api/ping")
            pings.append(ping_after)
            ping_rps = (ping_before.rps + ping_after.rps) / 2
            ping_p99 = max(ping_before.p99_ms, ping_after.p99_ms)
            ping_cpu = (ping_before.cpu_ms + ping_after.cpu_ms) / 2
            ratio = case.rps / ping_rps
            errors = case.errors + ping_after.errors
            cold_ok = not _cold_target(case_path) or cold_ms < COLD_TARGET_MS
            ok = status == 200 and errors == 0 and ratio >= 0.5 and case.p99_ms < 50 and cold_ok
            failures += not ok
            note = f" ({errors} errors)" if errors else ""
            note += "" if cold_ok else f" (cold over {COLD_TARGET_MS} ms)"
            print(
                f"{case_path:<72} {cold_ms:>7.0f} {case.rps:>6.0f} {ping_rps:>6.0f} {ratio:>5.2f} "
                f"{case.p50_ms:>5.1f} {case.p99_ms:>6.1f} {ping_p99:>8.1f} {case.cpu_ms:>6.2f} {ping_cpu:>5.2f} "
                f"{load:>4.1f}  {'ok' if ok else 'MISSED'}{note}"
            )
            ping_before = ping_after
        print(
            f"/api/ping over the runs: {min(p.rps for p in pings):.0f}-{max(p.rps for p in pings):.0f} req/s, "
            f"p99 {min(p.p99_ms for p in pings):.1f}-{max(p.p99_ms for p in pings):.1f} ms"
            f"{'' if all(p.p99_ms < 50 for p in pings) else ' (p99 target < 50 ms MISSED)'}"
        )
        failures += sum(p.p99_ms >= 50 or p.errors > 0 for p in pings)
        print(f"load average at the end: {_load():.1f} (the machine has {os.cpu_count()} cores)")
        print()
        for pid in _worker_pids(server.pid):
            peak_mb[pid] = max(peak_mb.get(pid, 0.0), _status_mb(pid, "VmHWM"))
            print(f"web worker {pid}: resident {_status_mb(pid, 'VmRSS'):.0f} MB now")
        peak = max(peak_mb.values())
        print(
            f"web workers' peak resident memory: {peak:.0f} MB over {len(peak_mb)} worker processes "
            f"({len(peak_mb) - len(workers)} started by max_requests recycling) (target < 200 MB) "
            f"{'ok' if peak < 200 else 'MISSED'}"
        )
        failures += peak >= 200
        print(f"\n{'all targets met' if not failures else f'{failures} target(s) missed'}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
