"""Import benchmark: N generated rows in the mall layout, imported next to a bare COPY of the same file.

    .venv/bin/python bench/import_bench.py --rows 1000000 [--repeat 3] [--path columnar|sql]

It runs on its own database (`bench_importer` on the same server as DATABASE_URL, or the embedded
server), which it creates and migrates. Each repeat empties the tables, then times, back to back:

- a bare `COPY` of the file into a plain table with typed columns and no index (the yardstick);
- `manage.py import_transactions FILE --sync --json --no-refit` in a subprocess: the import stages
  (read, validate, load, aggregates) as the import reports them, and the subprocess's peak RSS.

and prints rows/s for both, their ratio (goal: at least 0.35) and the peak memory (goal: under
1 GB), per repeat and as medians, with the machine's load average around each repeat. `--path sql`
switches the columnar path off (IMPORT_COLUMNAR=false) to time the SQL path on the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench_db import database_url, psycopg_url, with_database  # noqa: E402 (after the sys.path line)

IMPORT_STAGES = ("read", "validate", "load", "aggregates")
BARE_TABLE_SQL = """
CREATE TABLE bench_bare_copy (
    invoice_no text, customer_id text, gender text, age integer, category text, quantity integer,
    price numeric(14, 2), payment_method text, invoice_date date, shopping_mall text,
    discount numeric(14, 2), cost numeric(14, 2)
)
"""


def database_prepare(server_url: str, name: str) -> str:
    with psycopg.connect(psycopg_url(with_database(server_url, "postgres")), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True)
    return url


def tables_empty(url: str) -> None:
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND ("
                "tablename LIKE 'analytics\\_%%' OR tablename LIKE 'segmentation\\_%%') "
                "AND tablename NOT IN ('analytics_columnmapping')"
            ).fetchall()
        ]
        conn.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")
        conn.execute("DROP TABLE IF EXISTS bench_bare_copy")
        conn.execute("CHECKPOINT")


def bare_copy_seconds(url: str, path: Path) -> float:
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("SET datestyle = 'ISO, DMY'")
        conn.execute(BARE_TABLE_SQL)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while chunk := source.read(1024 * 1024):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare_copy")
        conn.execute("CHECKPOINT")
    return seconds


def demo_file_write(path: Path, *, rows: int, seed: int) -> None:
    """Generate the file in a child process: this process stays small, so the import it starts next
    does not inherit a large memory footprint (a child's peak RSS counts what it had before exec)."""
    code = (
        "import sys; from analytics.demo_data import demo_rows_write; "
        "demo_rows_write(sys.argv[1], rows=int(sys.argv[2]), seed=int(sys.argv[3]), return_share=0.01)"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(rows), str(seed)], cwd=PROJECT, check=True)


def import_run(url: str, path: Path, *, columnar: bool) -> tuple[dict, float, int]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "retail_platform.settings.dev",
        "IMPORT_COLUMNAR": "true" if columnar else "false",
    }
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "import_transactions", str(path), "--sync", "--json", "--no-refit"],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=err,
        )
        # The import process's own resource usage; ru_maxrss is its peak RSS in kilobytes on Linux.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        sys.stderr.write(stdout + stderr)
        raise SystemExit(f"The import failed (exit {process.returncode}).")
    report = json.loads(lines[-1])
    # The read model's own steps, from the import's log (analytics.services.import_batches).
    steps = [line.split(" took ", 1)[1] for line in stderr.splitlines() if "the read model's steps took" in line]
    if steps:
        report["read_model_steps"] = json.loads(steps[-1].removesuffix(" s"))
    return report, wall, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--path", choices=("columnar", "sql"), default="columnar")
    parser.add_argument("--database", default="bench_importer")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    url = database_prepare(database_url(), args.database)
    ratios, imports, copies, peaks = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        path = Path(folder) / f"mall_{args.rows}.csv"
        started = time.perf_counter()
        demo_file_write(path, rows=args.rows, seed=args.seed)
        size_mb = path.stat().st_size / 1_048_576
        print(f"file: {args.rows:,} rows, {size_mb:,.1f} MB (generated in {time.perf_counter() - started:.1f} s)")
        print(f"path: {args.path}")
        for repeat in range(1, args.repeat + 1):
            tables_empty(url)
            load_before = os.getloadavg()[0]
            copy_seconds = bare_copy_seconds(url, path)
            report, wall, peak_kb = import_run(url, path, columnar=args.path == "columnar")
            load_after = os.getloadavg()[0]
            timings = report["timings"]
            import_seconds = sum(timings.get(stage, 0.0) for stage in IMPORT_STAGES)
            ratio = copy_seconds / import_seconds
            ratios.append(ratio)
            imports.append(import_seconds)
            copies.append(copy_seconds)
            peaks.append(peak_kb / 1024)
            stages = ", ".join(f"{stage} {timings.get(stage, 0.0):.2f}" for stage in IMPORT_STAGES)
            print(
                f"#{repeat}: bare COPY {copy_seconds:.2f} s, import {import_seconds:.2f} s ({stages}; "
                f"process {wall:.1f} s), ratio {ratio:.2f}, peak RSS {peak_kb / 1024:,.0f} MB, "
                f"load {load_before:.1f} -> {load_after:.1f}, {report['load_path']} path, "
                f"{report['status']}: read {report['rows_read']:,}, imported {report['imported']:,}"
            )
            if report["status"] != "succeeded" or report["imported"] != args.rows:
                raise SystemExit("The import did not load every row.")
    copy_median, import_median = statistics.median(copies), statistics.median(imports)
    print(f"bare COPY:  {copy_median:7.2f} s  {args.rows / copy_median:12,.0f} rows/s  (median of {args.repeat})")
    print(f"import:     {import_median:7.2f} s  {args.rows / import_median:12,.0f} rows/s  (median of {args.repeat})")
    print(f"ratio:      {statistics.median(ratios):.2f} of bare COPY throughput, median of the repeats (goal >= 0.35)")
    print(f"peak RSS:   {max(peaks):,.0f} MB, the most of the repeats (goal < 1024 MB)")


if __name__ == "__main__":
    main()
