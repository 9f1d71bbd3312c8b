"""Citus benchmark: the platform on one PostgreSQL server and on a Citus cluster (a coordinator and two
workers), all on this machine, with the same data.

    .venv/bin/python bench/citus_bench.py [--lines 10000000] [--customers 1000000] [--duration 10]
        [--connections 16] [--layouts single,citus] [--dir DIR]
        [--file-lines 2500000]

Each layout gets throwaway servers of the same PostgreSQL 18 build and settings
(`scripts/citus_cluster.sh start DIR 0` for one server, `... DIR 2` for the cluster: durability off,
shared_buffers 1 GB, work_mem 64 MB, maintenance_work_mem 512 MB on every server; 8 shards per
distributed table), `manage.py migrate` (which lays the tables out on the cluster), then:

1. import: N lines of demo data (analytics.demo_data: ten malls, eight categories, three payment
   methods, customers who come back, discounts, cost, 2 % returns, one line per invoice) in files of
   at most `--file-lines` (2,500,000: one 10 M-line file would pass the 500 MB upload limit), each on
   its own stretch of the days, generated once, each imported in turn through `manage.py
   import_transactions FILE --sync --json --no-refit`: the import's stages and the read model's
   steps (from the import's log), per file and summed;
2. plans: EXPLAIN of the statements that carry the work (the read model's increment, the refit's
   read, the readers behind the API): on the cluster, where each runs (shard tasks on the workers,
   in parallel, or the coordinator), and on either, PostgreSQL's parallel workers;
3. refit: `manage.py refit_segments` (segments and customer value, saved), its stages;
4. customer value: `manage.py fit_clv --json`, the fit and holdout check alone;
5. API: gunicorn as the Procfile runs it (2 sync workers, production settings) and wrk with 16
   connections (a request times out after 60 s): cached answers (the unfiltered overview) and
   uncached ones (each request a date range of its own, so it is computed from the read model), each
   after one request alone for a year nobody asked for.

All servers share the machine's cores, so the cluster shows where its work runs, not a speed-up.
The servers are stopped and deleted at the end (`--dir` keeps them, to look at afterwards).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from api_bench import _ensure_wrk, _free_port, _get, _worker_pids, run_wrk  # noqa: E402

CLUSTER = ROOT / "scripts" / "citus_cluster.sh"
SERVER_SETTINGS = "-c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB -c max_wal_size=4GB"
GUNICORN = [str(ROOT / ".venv/bin/gunicorn"), "--config", "python:retail_platform.gunicorn_conf"]
FIRST_DAY, LAST_DAY = datetime.date(2021, 1, 1), datetime.date(2023, 3, 8)  # analytics.demo_data's days
STEPS_LOG = re.compile(r"the read model's steps took (\{.*\}) s")

# Statements whose plans are shown: (label, SQL, parameters) gathered by `_plans` inside Django.
PLANS_CODE = r"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_platform.settings.dev")
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from analytics.warehouse import statements as s, SalesFilter, customer_histories_get, overview_get, cohorts_get
import datetime

def plan(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())

def captured(function):
    with CaptureQueriesContext(connection) as queries:
        function()
    return max((q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")),
               key=len)

batch = {"batch": 1, "sign": 1}
cases = [
    ("increment: the batch's lines per transaction part",
     f"INSERT INTO analytics_wh_parts ({s.PARTS_COLUMNS}) " + s.PARTS_SELECT.format(where="WHERE batch_id = %(batch)s"),
     batch),
    ("increment: day rollup from the parts", s.DAILY_ADD, None),
    ("increment: new transactions", s.TRANSACTIONS_BROUGHT, None),
    ("increment: touched transactions merged", s.TRANSACTIONS_MERGE, None),
    ("increment: transactions put", s.TRANSACTIONS_PUT, None),
    ("increment: transactions per category and day", s.CATEGORY_TRANSACTIONS_ADD, None),
    ("increment: customers touched", s.CUSTOMERS_FIND, batch),
    ("increment: new customers' summaries", s.CUSTOMERS_NEW, None),
    ("rebuild: every customer's summary", s.CUSTOMERS_REBUILD, None),
    ("refit and customer value: every customer's history", captured(customer_histories_get), None),
    ("API: overview of six months of two stores", captured(lambda: overview_get(sales_filter=SalesFilter(
        date_from=datetime.date(2022, 1, 1), date_to=datetime.date(2022, 6, 30), stores=("Kanyon", "Metrocity")))),
     None),
    ("API: cohorts by month", captured(lambda: cohorts_get(sales_filter=SalesFilter(), period="month")), None),
]
print(json.dumps([(label, plan(sql, params)) for label, sql, params in cases]))
"""


def sh(*command: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=ROOT, env=env, check=False, text=True, **kwargs)
    if done.returncode:
        sys.exit(f"{' '.join(command[:4])} failed ({done.returncode}):\n{done.stdout or ''}{done.stderr or ''}")
    return done


def _load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def plan_summary(plan: str) -> str:
    """Where a statement runs, from its EXPLAIN: on a cluster the shard tasks and how rows move; on
    either, PostgreSQL's parallel workers."""
    parts = []
    tasks = [int(count) for count in re.findall(r"Task Count: (\d+)", plan)]
    if tasks:
        parts.append(f"{'+'.join(map(str, tasks))} shard tasks on the workers")
    method = re.search(r"INSERT/SELECT method: ([\w -]+)", plan)
    if method:
        parts.append(f"INSERT ... SELECT {method.group(1).strip()}")
    subplans = len(re.findall(r"Distributed Subplan", plan))
    if subplans:
        parts.append(f"{subplans} subplan(s) via the coordinator")
    if "Custom Scan (Citus Adaptive)" in plan and not tasks:
        parts.append("on the coordinator (Citus)")
    workers = [int(count) for count in re.findall(r"Workers Planned: (\d+)", plan)]
    if workers:
        parts.append(f"{max(workers)} parallel worker(s) per {'task' if tasks else 'query'}")
    if not parts:
        parts.append("one process on one server" if "Custom Scan" not in plan else "on the coordinator")
    return "; ".join(parts)


class Layout:
    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        self.workers = 2 if name == "citus" else 0
        self.url = ""

    def start(self) -> None:
        env = {**os.environ, "CITUS_SERVER_SETTINGS": SERVER_SETTINGS}
        self.url = sh("bash", str(CLUSTER), "start", str(self.folder), str(self.workers), env=env, capture_output=True)
        self.url = self.url.stdout.strip().splitlines()[-1]
        sh(sys.executable, "manage.py", "migrate", "-v0", env=self.env())

    def stop(self) -> None:
        subprocess.run(["bash", str(CLUSTER), "stop", str(self.folder)], cwd=ROOT, check=False)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "retail_platform.settings.dev",
            **extra,
        }

    def sql(self, query: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as connection:
            return connection.execute(query).fetchall()


def files_write(folder: Path, *, lines: int, customers: int, file_lines: int) -> list[Path]:
    """The history as a retailer's exports bring it: files of at most `file_lines` lines (one file of
    10 M lines would pass the 500 MB upload limit), each on its own stretch of the days, of the same
    customers (who come back from one file to the next). Generated once per folder."""
    count = max(1, -(-lines // file_lines))
    days = (LAST_DAY - FIRST_DAY).days + 1
    paths = []
    started = time.perf_counter()
    for part in range(count):
        path = folder / f"demo_{lines}_{customers}_{part + 1}_of_{count}.csv"
        paths.append(path)
        if path.exists():
            continue
        rows = min(file_lines, lines - part * file_lines)
        first = FIRST_DAY + datetime.timedelta(days=days * part // count)
        last = FIRST_DAY + datetime.timedelta(days=days * (part + 1) // count - 1)
        code = (
            "import sys, datetime; from analytics.demo_data import demo_rows_write; "
            "demo_rows_write(sys.argv[1], rows=int(sys.argv[2]), customers=int(sys.argv[3]), return_share=0.02, "
            "seed=int(sys.argv[4]), customer_seed=1, invoice_start=int(sys.argv[5]), "
            "first_day=datetime.date.fromisoformat(sys.argv[6]), last_day=datetime.date.fromisoformat(sys.argv[7]))"
        )
        sh(sys.executable, "-c", code, str(path), str(rows), str(customers), str(7 + part),
           str(100_000 + part * file_lines), first.isoformat(), last.isoformat())  # fmt: skip
    size = sum(path.stat().st_size for path in paths) / 2**20
    print(f"files: {lines:,} lines of {customers:,} customers in {len(paths)} file(s), {size:,.0f} MB "
          f"(generated in {time.perf_counter() - started:.0f} s)")  # fmt: skip
    return paths


def import_files(layout: Layout, paths: list[Path]) -> dict:
    """Each file imported in turn; the stages and the read model's steps summed over the files."""
    files = [import_file(layout, path) for path in paths]
    for number, done in enumerate(files, start=1):
        print(f"import, file {number} of {len(files)}: {json.dumps(done)}", flush=True)
    total: dict = {"wall": sum(done["wall"] for done in files), "stages": {}, "steps": {}, "files": files}
    for done in files:
        for key in ("stages", "steps"):
            for name, seconds in done[key].items():
                total[key][name] = total[key].get(name, 0) + seconds
    return total


def import_file(layout: Layout, path: Path) -> dict:
    started = time.perf_counter()
    load_before = _load()
    done = sh(
        sys.executable, "manage.py", "import_transactions", str(path), "--sync", "--json", "--no-refit",
        env=layout.env(LOG_LEVEL="INFO"), capture_output=True,
    )  # fmt: skip
    report = json.loads(done.stdout.strip().splitlines()[-1])
    steps = STEPS_LOG.search(done.stderr)
    return {
        "wall": time.perf_counter() - started,
        "stages": report["timings"],
        "steps": json.loads(steps.group(1)) if steps else {},
        "imported": report["imported"],
        "load_path": report["load_path"],
        "load": f"{load_before} -> {_load()}",
    }


def refit(layout: Layout) -> dict:
    started = time.perf_counter()
    out = sh(sys.executable, "manage.py", "refit_segments", env=layout.env(), capture_output=True).stdout
    stages = re.search(r"stages \(s\): (.*)", out)
    customers = re.search(r": (\d+) customers, k = (\d+)", out)
    return {
        "wall": time.perf_counter() - started,
        "stages": stages.group(1) if stages else "",
        "customers": int(customers.group(1)) if customers else 0,
        "k": int(customers.group(2)) if customers else 0,
        "load": _load(),
    }


def fit_clv(layout: Layout) -> dict:
    started = time.perf_counter()
    out = sh(sys.executable, "manage.py", "fit_clv", "--json", env=layout.env(), capture_output=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    return {"wall": time.perf_counter() - started, "model": report.get("chosen"), "load": _load()}


def plans(layout: Layout) -> list[tuple[str, str]]:
    out = sh(sys.executable, "-c", PLANS_CODE, env=layout.env(), capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def api(layout: Layout, *, duration: int, connections: int) -> dict[str, dict]:
    wrk = _ensure_wrk()
    token = sh(
        sys.executable, "-c",
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'retail_platform.settings.dev'); "
        "django.setup(); from django.contrib.auth.models import Group, User; "
        "from rest_framework.authtoken.models import Token; from retail_platform.roles import VIEWER; "
        "user, _ = User.objects.get_or_create(username='citus-bench'); "
        "user.groups.add(Group.objects.get(name=VIEWER)); print(Token.objects.get_or_create(user=user)[0].key)",
        env=layout.env(), capture_output=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    port = _free_port()
    env = layout.env(
        DJANGO_SETTINGS_MODULE="retail_platform.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="False",
        API_THROTTLE_USER="1000000000/hour",
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY="2",
    )
    server = subprocess.Popen(
        [*GUNICORN, "retail_platform.wsgi:application", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict] = {}
    # Each request of the uncached cases asks for a date range no request asked before (wrk's Lua).
    script = Path(tempfile.mkdtemp()) / "ranges.lua"
    script.write_text(
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  local day = 1 + (counter % 28)\n"
        "  local month = 1 + (math.floor(counter / 28) % 12)\n"
        "  local year = 2021 + (math.floor(counter / 336) % 2)\n"
        "  local path = string.format('%s?date_from=%04d-%02d-%02d&date_to=%04d-12-31', wrk.path, year, month, day, "
        "year + 1)\n"
        "  return wrk.format('GET', path)\n"
        "end\n"
    )
    try:
        for _ in range(150):
            try:
                _get(base + "/api/ping", token)
                if len(_worker_pids(server.pid)) == 2:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        cases = [
            ("/api/overview (cached)", "/api/overview", None),
            ("/api/performance/stores (cached)", "/api/performance/stores", None),
            ("/api/overview, a new date range each request", "/api/overview", script),
            ("/api/customers/repeat-vs-onetime, a new date range each request", "/api/customers/repeat-vs-onetime",
             script),
            ("/api/cohorts, a new date range each request", "/api/cohorts", script),
        ]  # fmt: skip
        for label, path, lua in cases:
            # One request alone first (a year no request asked for: computed from the read model), which
            # also loads the worker's code paths.
            _, first_ms = _get(base + path + "?date_from=2021-01-01&date_to=2021-12-31", token)
            run, requests = _wrk(wrk, base + path, token, duration, connections, lua)
            results[label] = {
                "first_request_ms": first_ms,
                "rps": run.rps,
                "p50": run.p50_ms,
                "p99": run.p99_ms,
                "errors": run.errors,
                "requests": requests,
                "load": _load(),
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(script.parent, ignore_errors=True)
    return results


def _wrk(wrk: str, url: str, token: str, duration: int, connections: int, lua: Path | None):
    if lua is None:
        run_wrk(wrk, url, token, duration=2, connections=connections)  # warm-up
        return run_wrk(wrk, url, token, duration=duration, connections=connections)
    options = ("--timeout", "60s", "-s", str(lua))
    return run_wrk(wrk, url, token, duration=duration, connections=connections, options=options)


def sizes(layout: Layout) -> dict[str, int]:
    counts = {}
    for table in ("analytics_transactionline", "analytics_customer", "analytics_salestransaction"):
        counts[table] = layout.sql(f"SELECT count(*) FROM {table}")[0][0]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--file-lines", type=int, default=2_500_000, help="lines per file at most (about 210 MB)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each measured wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--layouts", default="single,citus")
    parser.add_argument("--dir", help="keep the servers and the file under this folder")
    args = parser.parse_args()

    sh("bash", str(CLUSTER), "build", capture_output=True)
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="citus-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)  # noqa: S103 (the servers run as another user, who must reach their folders)
    paths = files_write(folder, lines=args.lines, customers=args.customers, file_lines=args.file_lines)
    print(f"machine: {os.cpu_count()} cores, load average {_load()} (1/5/15 min)\n")
    report: dict[str, dict] = {}
    try:
        for name in args.layouts.split(","):
            layout = Layout(name, folder / name)
            print(f"== {name}: {'a coordinator and 2 workers' if layout.workers else 'one server'}", flush=True)
            layout.start()
            entry: dict = {"import": import_files(layout, paths)}
            entry["sizes"] = sizes(layout)
            entry["plans"] = [(label, plan_summary(text), text) for label, text in plans(layout)]
            for label, summary, _ in entry["plans"]:
                print(f"plan: {label}: {summary}", flush=True)
            entry["refit"] = refit(layout)
            print(f"refit: {json.dumps(entry['refit'])}", flush=True)
            entry["clv"] = fit_clv(layout)
            print(f"customer value: {json.dumps(entry['clv'])}", flush=True)
            entry["api"] = api(layout, duration=args.duration, connections=args.connections)
            for label, run in entry["api"].items():
                print(f"api: {label}: {json.dumps(run)}", flush=True)
            report[name] = entry
            if not args.dir:
                layout.stop()
            print(flush=True)
    finally:
        if not args.dir:
            for name in args.layouts.split(","):
                Layout(name, folder / name).stop()
            shutil.rmtree(folder, ignore_errors=True)
    (Path(tempfile.gettempdir()) / "citus_bench.json").write_text(json.dumps(report, indent=1))
    _print_table(report)


def _print_table(report: dict[str, dict]) -> None:
    names = list(report)
    print("| stage | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))

    def row(label: str, values: list[str]) -> None:
        print(f"| {label} | " + " | ".join(values) + " |")

    stages = list(next(iter(report.values()))["import"]["stages"])
    for stage in stages:
        row(f"import: {stage}, s", [f"{report[n]['import']['stages'].get(stage, 0):.1f}" for n in names])
    for step in next(iter(report.values()))["import"]["steps"]:
        row(f"import: aggregates, {step}, s", [f"{report[n]['import']['steps'].get(step, 0):.1f}" for n in names])
    row("import: every file's whole process, s", [f"{report[n]['import']['wall']:.1f}" for n in names])
    for index in range(len(next(iter(report.values()))["import"]["files"])):
        row(
            f"import: file {index + 1}'s whole process (aggregates), s",
            [
                f"{report[n]['import']['files'][index]['wall']:.1f} "
                f"({report[n]['import']['files'][index]['stages'].get('aggregates', 0):.1f})"
                for n in names
            ],
        )
    row("refit (segments and customer value, saved), s", [f"{report[n]['refit']['wall']:.1f}" for n in names])
    row("customer-value fit and holdout check, s", [f"{report[n]['clv']['wall']:.1f}" for n in names])
    for label in next(iter(report.values()))["api"]:
        row(
            f"API: {label}: one request alone, ms",
            [f"{report[n]['api'][label].get('first_request_ms', 0):.0f}" for n in names],
        )
        row(
            f"API at 16 connections: {label}: req/s, p50 / p99 ms",
            [
                f"{report[n]['api'][label]['rps']:.0f}, {report[n]['api'][label]['p50']:.0f} / "
                f"{report[n]['api'][label]['p99']:.0f}"
                for n in names
            ],
        )
    print()
    for index, (label, _, _) in enumerate(next(iter(report.values()))["plans"]):
        print(f"- {label}: " + "; ".join(f"{n}: {report[n]['plans'][index][1]}" for n in names))


if __name__ == "__main__":
    main()
