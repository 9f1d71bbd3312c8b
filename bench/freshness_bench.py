"""Freshness benchmark: how long a daily file takes until every answer includes it, on 1 M and 10 M lines
of history.

    .venv/bin/python bench/freshness_bench.py [--history 1000000] [--big-history 10000000] [--daily 100000]

On its own database (`bench_freshness`, created and migrated), for each history size:

1. the tables are emptied and a history in the mall layout is imported (`import_transactions --sync
   --json --no-refit`, one line per invoice, 120,000 customers, 2021-01-01 to 2023-03-08, discount and
   cost): the first load, timed by stage; 10 M lines come as the 1 M file and three more of at most
   3 M lines (one file would pass the 500 MB upload limit), imported one after the other;
2. a daily file is imported the same way: 100,000 new lines of the same customers on the week after
   the history, and 5,000 lines of the history's last day again (an export overlapping yesterday's).
   The same file for every history size.

Timed for the daily file: the import command's wall clock from its start to its exit (Python start-up
included); its own read + validate + load; its read-model stage (`aggregates`: the increment added to
every table and the unfiltered answers computed, inside the import's transaction). Then, in this
process, every analytics endpoint is asked (Django's test client, production settings, a staff user,
an emptied process cache): each answer must include the file (the overview's net sales and
transactions equal the files' own totals), and the time those first answers took is reported.
Goals: fresh (command's wall clock) at most 2 x the import's own read + validate + load onto 1 M; the
same file onto 10 M at most 1.5 x what it takes onto 1 M.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import psycopg

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

from bench_db import database_url, psycopg_url  # noqa: E402
from import_bench import database_prepare, import_run, tables_empty  # noqa: E402

CUSTOMERS = 120_000
CUSTOMER_SEED = 1
HISTORY_LAST_DAY = datetime.date(2023, 3, 8)
OVERLAP = 5_000
HISTORY_FILE_LINES = 3_000_000  # about 250 MB: under the 500 MB upload limit
ENDPOINTS = (
    "/api/overview",
    "/api/performance/stores",
    "/api/insights/seasonality",
    "/api/insights/discount-impact",
    "/api/customers/repeat-vs-onetime",
    "/api/insights/payment-methods",
    "/api/cohorts",
)


def _history_write(path: Path, *, rows: int, seed: int, invoice_start: int) -> None:
    from analytics.demo_data import FIRST_DAY, demo_rows_write

    demo_rows_write(
        path,
        rows=rows,
        customers=CUSTOMERS,
        customer_seed=CUSTOMER_SEED,
        seed=seed,
        first_day=FIRST_DAY,
        last_day=HISTORY_LAST_DAY,
        invoice_start=invoice_start,
        return_share=0.01,
    )


def files_write(folder: Path, *, history: int, base: int, daily: int) -> tuple[list[Path], Path]:
    """The history's files (a bigger one is the base history's file, then more lines of the same
    customers and days in files of at most HISTORY_FILE_LINES, as a retailer's back catalogue arrives:
    one file would pass the upload limit) and the daily file (the same for every history: the week
    after, and 5,000 lines of the base history's last day again)."""
    base_path = folder / f"history_{base}.csv"
    if not base_path.exists():
        _history_write(base_path, rows=base, seed=7, invoice_start=100_000)
    history_paths = [base_path]
    for part, start in enumerate(range(base, history, HISTORY_FILE_LINES)):
        path = folder / f"history_more_{part}.csv"
        if not path.exists():
            rows = min(HISTORY_FILE_LINES, history - start)
            _history_write(path, rows=rows, seed=8 + part, invoice_start=20_000_000 + start)
        history_paths.append(path)
    daily_path = folder / "daily.csv"
    if not daily_path.exists():
        from analytics.demo_data import demo_rows_write

        new = folder / "daily_new.csv"
        demo_rows_write(
            new,
            rows=daily,
            customers=CUSTOMERS,
            customer_seed=CUSTOMER_SEED,
            seed=11,
            first_day=HISTORY_LAST_DAY + datetime.timedelta(days=1),
            last_day=HISTORY_LAST_DAY + datetime.timedelta(days=7),
            invoice_start=50_000_000,
            return_share=0.01,
        )
        fresh = pd.read_csv(new, dtype=str)
        past = pd.read_csv(base_path, dtype=str)
        last_day_text = f"{HISTORY_LAST_DAY.day}/{HISTORY_LAST_DAY.month}/{HISTORY_LAST_DAY.year}"
        overlap = past[past["invoice_date"] == last_day_text].head(OVERLAP)
        pd.concat([overlap, fresh]).to_csv(daily_path, index=False, lineterminator="\n")
    return history_paths, daily_path


def file_totals(paths: list[Path]) -> tuple[Decimal, int]:
    """Net sales and transactions (lines with a positive quantity: one invoice each) of the files'
    distinct lines, in exact cents."""
    net_cents, purchases = 0, 0
    seen: set[str] = set()
    for path in paths:
        for chunk in pd.read_csv(path, dtype=str, chunksize=1_000_000):
            chunk = chunk[~chunk["invoice_no"].isin(seen)]
            seen.update(chunk["invoice_no"])
            cents = lambda column: (pd.to_numeric(column) * 100).round().astype("int64")  # noqa: E731
            net_cents += int((cents(chunk["price"]) - cents(chunk["discount"])).sum())
            purchases += int((chunk["quantity"].astype(int) > 0).sum())
    return Decimal(net_cents).scaleb(-2), purchases


def answers_check(url: str, expected_net: Decimal, expected_transactions: int) -> tuple[float, dict[str, float]]:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="retail_platform.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="False",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    user, _ = User.objects.get_or_create(username="bench-freshness", defaults={"is_staff": True})
    client = Client()
    client.force_login(user)
    cache.clear()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    for path in ENDPOINTS:
        mark = time.perf_counter()
        response = client.get(path, secure=True)
        seconds[path] = round(time.perf_counter() - mark, 3)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
        if path == "/api/overview":
            body = json.loads(response.content)
            if Decimal(body["net_sales"]) != expected_net or body["transactions"] != expected_transactions:
                raise SystemExit(f"The answer does not include the file: {body}")
    connection.close()
    return time.perf_counter() - started, seconds


def run(url: str, folder: Path, *, history: int, base: int, daily: int) -> dict:
    tables_empty(url)
    history_paths, daily_path = files_write(folder, history=history, base=base, daily=daily)
    load = os.getloadavg()[0]
    first_timings: dict[str, float] = {}
    first_wall, first_peak = 0.0, 0
    for path in history_paths:
        first, wall, peak = import_run(url, path, columnar=True)
        for stage, seconds in first["timings"].items():
            first_timings[stage] = round(first_timings.get(stage, 0.0) + seconds, 3)
        first_wall, first_peak = first_wall + wall, max(first_peak, peak)
    report, wall, peak = import_run(url, daily_path, columnar=True)
    timings = report["timings"]
    own = sum(timings.get(stage, 0.0) for stage in ("read", "validate", "load"))
    net, transactions = file_totals([*history_paths, daily_path])
    answers, per_endpoint = answers_check(url, net, transactions)
    with psycopg.connect(psycopg_url(url)) as conn:
        lines = conn.execute("SELECT count(*) FROM analytics_transactionline").fetchone()[0]
    result = {
        "history": history,
        "first_load": {
            "files": len(history_paths),
            "timings": first_timings,
            "wall": round(first_wall, 2),
            "peak_mb": first_peak // 1024,
        },
        "daily": {
            "rows_read": report["rows_read"],
            "imported": report["imported"],
            "duplicates": report["duplicates"],
            "timings": timings,
            "read_model_steps": report.get("read_model_steps"),
            "own_read_validate_load": round(own, 3),
            "fresh_wall": round(wall, 3),
            "fresh_over_own": round(wall / own, 2),
            "peak_mb": peak // 1024,
        },
        "first_answers_seconds": round(answers, 3),
        "first_answer_per_endpoint": per_endpoint,
        "lines": lines,
        "load_before": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--big-history", type=int, default=10_000_000, help="0 to skip")
    parser.add_argument("--daily", type=int, default=100_000)
    parser.add_argument("--database", default="bench_freshness")
    args = parser.parse_args()
    url = database_prepare(database_url(), args.database)
    with tempfile.TemporaryDirectory(prefix="freshness-bench-") as name:
        folder = Path(name)
        small = run(url, folder, history=args.history, base=args.history, daily=args.daily)
        print(
            f"onto {args.history:,}: fresh {small['daily']['fresh_wall']:.2f} s = "
            f"{small['daily']['fresh_over_own']:.2f} x its own read+validate+load "
            f"({small['daily']['own_read_validate_load']:.2f} s; goal <= 2)"
        )
        if args.big_history:
            big = run(url, folder, history=args.big_history, base=args.history, daily=args.daily)
            print(
                f"onto {args.big_history:,}: fresh {big['daily']['fresh_wall']:.2f} s = "
                f"{big['daily']['fresh_wall'] / small['daily']['fresh_wall']:.2f} x onto {args.history:,} (goal <= 1.5)"
            )


if __name__ == "__main__":
    main()
