"""Soak: concurrent API and page requests for minutes while a big import and a refit run.

    .venv/bin/python bench/soak_bench.py [--seconds 300] [--concurrency 32] [--rows 1000000]
                                         [--base-rows 100000] [--import-after 15]

- Database `bench_reliability` on the server of DATABASE_URL (the embedded one without it), dropped
  and created afresh, migrated, and loaded with `--base-rows` demo lines through
  `import_transactions --sync` (import, aggregates, refit), so the pages and the API have data.
- The app as the Procfile runs it: production settings (DEBUG off, manifest static files collected
  first), gunicorn with `retail_platform/gunicorn_conf.py` (2 sync workers, the app preloaded;
  `--threads 4` for gthread workers), and a real
  `manage.py qcluster` (2 workers). Plain HTTP on localhost, so SECURE_SSL_REDIRECT is off; the
  user throttle is raised so the soak measures the service, not its rate limit.
- `--concurrency` client threads (requests, one session each), signed in as a staff user (every
  role): API calls with a token, pages with a session cookie, picked at random from the list below,
  back to back for `--seconds`.
- `--import-after` seconds in, a `--rows`-line file (a different demo seed) is uploaded through
  POST /api/imports; the worker imports it, then runs the refit the import queues.
- Printed: requests served, errors (any answer other than 2xx/3xx, and any client-side failure),
  latency p50/p95/p99/max overall and per phase (before the import, during it, during the refit,
  after), the import and refit durations, and the final check: lines in the database equal to the
  lines of both files, and their gross sales equal to the files' to the cent. The figures are also
  written to bench/out/soak_result.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BENCH_DB = "bench_reliability"
sys.path.insert(0, str(ROOT))
from bench_db import database_url, with_database  # noqa: E402 (after the sys.path line)

API_PATHS = [
    "/api/ping",
    "/api/overview",
    "/api/overview?date_from=2022-01-01&date_to=2022-06-30",
    "/api/performance/stores",
    "/api/performance/stores?date_from=2022-01-01&date_to=2022-06-30",
    "/api/insights/seasonality",
    "/api/insights/discount-impact",
    "/api/insights/payment-methods",
    "/api/customers/repeat-vs-onetime",
    "/api/segments",
    "/api/customers/rfm-segments?page=1",
    "/api/insights/category-by-segment",
    "/api/imports",
]
PAGE_PATHS = ["/", "/trends/", "/customers/", "/imports/", "/simulator/"]


@dataclass(frozen=True)
class Sample:
    started: float  # wall clock, seconds
    seconds: float
    status: int  # 0: the client failed (timeout, connection refused, ...)
    kind: str  # "api" or "page"
    path: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _file(rows: int, seed: int) -> tuple[Path, int, int]:
    """A demo file (cached in bench/out), its line count and its gross sales in cents."""
    import pandas as pd

    from analytics.demo_data import demo_rows_write

    path = OUT / f"soak_{rows}_{seed}.csv"
    if not path.exists():
        demo_rows_write(path, rows=rows, seed=seed)
    prices = pd.read_csv(path, usecols=["price"], dtype={"price": str})["price"]
    cents = prices.str.replace(".", "", regex=False).astype("int64").sum()
    return path, len(prices), int(cents)


def prepare_database(server_url: str, base_file: Path, env: dict[str, str]) -> str:
    import psycopg

    bench_url = with_database(server_url, BENCH_DB)
    admin_url = with_database(server_url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    env["DATABASE_URL"] = bench_url
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [*manage, "import_transactions", str(base_file), "--sync", "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    outcome = json.loads(out.strip().splitlines()[-1])
    print(f"base data: {outcome['imported']:,} lines imported and segmented ({outcome['status']})")
    return bench_url


def _setup_django(env: dict[str, str]) -> None:
    import django

    os.environ.update({key: env[key] for key in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")})
    os.environ.update({key: env[key] for key in ("ALLOWED_HOSTS", "SECURE_SSL_REDIRECT")})
    django.setup()


def create_user() -> str:
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    user = User.objects.create_user("soak", password="pw-soak-" + secrets.token_hex(8), is_staff=True)
    return Token.objects.create(user=user).key


def session_cookie() -> str:
    """A signed-in session for the pages, made the way Django's test client's force_login makes one."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user = User.objects.get(username="soak")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def start_processes(env: dict[str, str], port: int, logs: Path, *, threads: int) -> list[subprocess.Popen]:
    web_log = (logs / "soak_gunicorn.log").open("wb")
    worker_log = (logs / "soak_qcluster.log").open("wb")
    # The Procfile's `web` command (retail_platform/gunicorn_conf.py) on a localhost port.
    web = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--config",
            "python:retail_platform.gunicorn_conf",
            "retail_platform.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env={**env, "WEB_CONCURRENCY": "2", "WEB_THREADS": str(threads)},
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return [web, worker]


def _cpu_seconds(master_pid: int) -> float:
    """User + system CPU seconds of a gunicorn master's workers (from /proc)."""
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in children.split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def wait_until_up(base: str) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/accounts/login/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    sys.exit("gunicorn did not answer within 60 s")


def client(base: str, token: str, cookie: str, stop: threading.Event, samples: list[Sample], seed: int) -> None:
    import requests

    rng = random.Random(seed)
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    pages = requests.Session()
    pages.cookies.set("sessionid", cookie)
    pages.headers["X-Forwarded-Proto"] = "https"  # as the TLS proxy would say
    local: list[Sample] = []
    while not stop.is_set():
        is_page = rng.random() < 0.3
        path = rng.choice(PAGE_PATHS if is_page else API_PATHS)
        started = time.time()
        clock = time.perf_counter()
        try:
            response = (pages if is_page else api).get(base + path, timeout=60, allow_redirects=False)
            status = response.status_code
        except requests.RequestException:
            status = 0
        local.append(Sample(started, time.perf_counter() - clock, status, "page" if is_page else "api", path))
    samples.extend(local)


def upload(base: str, token: str, path: Path) -> int:
    import requests

    with path.open("rb") as handle:
        response = requests.post(
            base + "/api/imports",
            headers={"Authorization": f"Token {token}"},
            files={"file": (path.name, handle, "text/csv")},
            data={"mapping": "mall"},
            timeout=600,
        )
    if response.status_code != 202:
        sys.exit(f"upload failed: {response.status_code} {response.text[:500]}")
    return int(response.json()["id"])


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(samples: list[Sample]) -> dict[str, float | int]:
    millis = [s.seconds * 1000 for s in samples]
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if not 200 <= s.status < 400),
        "p50_ms": round(_percentile(millis, 0.50), 1),
        "p95_ms": round(_percentile(millis, 0.95), 1),
        "p99_ms": round(_percentile(millis, 0.99), 1),
        "max_ms": round(max(millis, default=0.0), 1),
        "mean_ms": round(statistics.fmean(millis), 1) if millis else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=300, help="how long the clients keep asking")
    parser.add_argument("--concurrency", type=int, default=32, help="client threads")
    parser.add_argument("--rows", type=int, default=1_000_000, help="lines of the file imported during the soak")
    parser.add_argument("--base-rows", type=int, default=100_000, help="lines loaded before the soak")
    parser.add_argument("--import-after", type=int, default=15, help="seconds into the soak the upload starts")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (the Procfile's 1)")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    base_file, base_rows, base_cents = _file(args.base_rows, seed=101)
    soak_file, soak_rows, soak_cents = _file(args.rows, seed=202)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retail_platform.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "API_THROTTLE_USER": "1000000000/hour",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(OUT / "soak_media"),
    }
    prepare_database(database_url(), base_file, env)
    _setup_django(env)
    token = create_user()
    cookie = session_cookie()

    from django.db import connection

    from analytics.models import ImportBatch, TransactionLine
    from segmentation.models import SegmentationRun

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    processes = start_processes(env, port, OUT, threads=args.threads)
    try:
        wait_until_up(base)
        stop = threading.Event()
        samples: list[Sample] = []
        threads = [
            threading.Thread(target=client, args=(base, token, cookie, stop, samples, n))
            for n in range(args.concurrency)
        ]
        soak_started = time.time()
        cpu_started = _cpu_seconds(processes[0].pid), time.process_time()
        for thread in threads:
            thread.start()
        time.sleep(args.import_after)
        upload_started = time.time()
        batch_id = upload(base, token, soak_file)
        print(f"uploaded {soak_rows:,} lines in {time.time() - upload_started:.1f} s -> batch {batch_id}")
        batch = None
        run = None
        while time.time() < soak_started + args.seconds:
            time.sleep(1)
            batch = ImportBatch.objects.get(pk=batch_id)
            if batch.status == ImportBatch.Status.SUCCEEDED and run is None:
                run = SegmentationRun.objects.filter(import_batch_id=batch_id).exclude(status="running").first()
            connection.close()
        stop.set()
        for thread in threads:
            thread.join(120)
        soak_ended = time.time()
        cpu = {
            "web_workers": round(_cpu_seconds(processes[0].pid) - cpu_started[0], 1),
            "load_generator": round(time.process_time() - cpu_started[1], 1),
        }

        deadline = time.time() + 1800
        while time.time() < deadline:
            batch = ImportBatch.objects.get(pk=batch_id)
            run = SegmentationRun.objects.filter(import_batch_id=batch_id).exclude(status="running").first()
            if batch.status == ImportBatch.Status.FAILED or (batch.status == ImportBatch.Status.SUCCEEDED and run):
                break
            time.sleep(2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    lines = TransactionLine.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(sum(gross_amount), 0) FROM analytics_transactionline")
        gross = cursor.fetchone()[0]
    expected_gross = Decimal(base_cents + soak_cents) / 100

    import_start = batch.started_at.timestamp() if batch and batch.started_at else None
    import_end = batch.finished_at.timestamp() if batch and batch.finished_at else None
    refit_end = run.finished_at.timestamp() if run and run.finished_at else None
    refit_start = run.created_at.timestamp() if run else None

    def phase(sample: Sample) -> str:
        if import_start is None or sample.started < import_start:
            return "before import"
        if import_end is None or sample.started < import_end:
            return "import"
        if refit_start is not None and sample.started < (refit_end or float("inf")):
            return "refit" if sample.started >= refit_start else "between import and refit"
        return "after"

    statuses = {sample.status for sample in samples}
    phases: dict[str, list[Sample]] = {}
    for sample in samples:
        phases.setdefault(phase(sample), []).append(sample)
    result = {
        "seconds": round(soak_ended - soak_started, 1),
        "concurrency": args.concurrency,
        "gunicorn": f"2 workers x {args.threads} threads",
        "cpu_seconds": cpu,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "overall": summarise(samples),
        "api": summarise([s for s in samples if s.kind == "api"]),
        "pages": summarise([s for s in samples if s.kind == "page"]),
        "phases": {name: summarise(group) for name, group in phases.items()},
        "statuses": {str(code): sum(1 for s in samples if s.status == code) for code in sorted(statuses)},
        "paths": {path: summarise([s for s in samples if s.path == path]) for path in API_PATHS + PAGE_PATHS},
        "import": {
            "rows_in_file": soak_rows,
            "status": batch.status if batch else None,
            "rows_read": batch.rows_read if batch else None,
            "imported": batch.imported if batch else None,
            "duplicates": batch.duplicates if batch else None,
            "rejected": batch.rejected if batch else None,
            "seconds": round(import_end - import_start, 1) if import_start and import_end else None,
            "timings": batch.timings if batch else None,
            "finished_within_soak": bool(import_end and import_end <= soak_ended),
        },
        "refit": {
            "status": run.status if run else None,
            "seconds": run.duration_seconds if run else None,
            "customers": run.customers if run else None,
            "finished_within_soak": bool(refit_end and refit_end <= soak_ended),
        },
        "final": {
            "lines_in_database": lines,
            "lines_in_files": base_rows + soak_rows,
            "gross_in_database": str(gross),
            "gross_in_files": str(expected_gross),
            "rows_lost": base_rows + soak_rows - lines,
            "equal": lines == base_rows + soak_rows and gross == expected_gross,
        },
    }
    (OUT / "soak_result.json").write_text(json.dumps(result, indent=2))
    overall = result["overall"]
    print()
    print(
        f"soak: {result['seconds']} s, {args.concurrency} concurrent clients (70 % API, 30 % pages), gunicorn "
        f"{result['gunicorn']}; CPU s: web {cpu['web_workers']}, load generator {cpu['load_generator']}; "
        f"load average {result['load_average_1m_at_end']} on {os.cpu_count()} cores"
    )
    print(
        f"requests served: {overall['requests']:,} ({overall['requests'] / result['seconds']:.0f}/s), "
        f"errors: {overall['errors']}, latency p50 {overall['p50_ms']} ms, p95 {overall['p95_ms']} ms, "
        f"p99 {overall['p99_ms']} ms, max {overall['max_ms']} ms"
    )
    for name in ("api", "pages"):
        part = result[name]
        print(f"  {name:<6} {part['requests']:>8,} requests, {part['errors']} errors, p99 {part['p99_ms']} ms")
    for name, part in result["phases"].items():
        print(f"  {name:<26} {part['requests']:>8,} requests, {part['errors']} errors, p99 {part['p99_ms']} ms")
    print(f"statuses: {result['statuses']}")
    slowest = sorted(result["paths"].items(), key=lambda item: -item[1]["p99_ms"])[:5]
    print("slowest paths (p99): " + ", ".join(f"{path} {part['p99_ms']} ms" for path, part in slowest))
    print(f"import: {json.dumps(result['import'])}")
    print(f"refit: {json.dumps(result['refit'])}")
    print(f"final: {json.dumps(result['final'])}")
    if not result["final"]["equal"] or overall["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
