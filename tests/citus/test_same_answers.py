"""On a Citus cluster the platform answers exactly as on one PostgreSQL server: the same files
imported, refitted, asked every API question, one import deleted, refitted and asked again, on the
test database of the cluster (here) and on a database of its own on one server (a process of its
own, `tests.citus.answers`), give the same imports, refits and answers.

It runs in the suite's Citus run (`scripts/test.sh`), which points DATABASE_URL at the cluster's
coordinator and SINGLE_SERVER_DATABASE_URL at a database URL of one server (the embedded one);
elsewhere it is skipped, saying why.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from analytics.demo_data import demo_rows_write
from retail_platform.citus import citus_layout_active
from tests.citus.answers import answers_collect

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)


def _files(folder: Path) -> list[Path]:
    """Two years of history, a later file of the same customers, and a file that delivers again some
    lines of the first, adds its own, and names a store with a quote (the SQL path imports it)."""
    history = demo_rows_write(
        folder / "history.csv", rows=6000, customers=700, seed=3, customer_seed=11, return_share=0.02
    )
    later = demo_rows_write(
        folder / "later.csv",
        rows=2500,
        customers=700,
        seed=4,
        customer_seed=11,
        return_share=0.02,
        invoice_start=500_000,
        first_day=datetime.date(2023, 1, 1),
        last_day=datetime.date(2023, 6, 30),
    )
    with history.open(newline="") as source:
        rows = list(csv.reader(source))
    header, lines = rows[0], rows[1:]
    mixed = folder / "mixed.csv"
    with mixed.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(header)
        writer.writerows(lines[:400])  # delivered again: claims on the history's lines
        store = header.index("shopping_mall")
        for number, line in enumerate(lines[400:700]):
            line = [*line]
            line[header.index("invoice_no")] = f"M{number}"
            line[store] = 'Kanyon "East"'
            writer.writerow(line)
    return [history, mixed, later]


def _single_server(url: str, files: list[Path], folder: Path) -> dict[str, Any]:
    """The answers of one server: a database of its own, migrated, the same steps in another process."""
    name = f"citus_compare_{uuid.uuid4().hex[:10]}"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = url.rsplit("/", 1)[0] + f"/{name}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "retail_platform.settings.test",
        "MEDIA_ROOT": str(folder / "single-media"),
    }
    out = folder / "single.json"
    try:
        for command in (
            [sys.executable, "manage.py", "migrate", "-v0"],
            [sys.executable, "-m", "tests.citus.answers", str(out), *map(str, files)],
        ):
            subprocess.run(command, cwd=settings.BASE_DIR, env=env, check=True, timeout=900)
        return json.loads(out.read_text())
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _differences(single: Any, cluster: Any, where: str = "") -> list[str]:
    if isinstance(single, dict) and isinstance(cluster, dict):
        found = []
        for key in sorted(set(single) | set(cluster)):
            if key not in single or key not in cluster:
                found.append(f"{where}/{key}: only on {'the cluster' if key in cluster else 'one server'}")
            else:
                found += _differences(single[key], cluster[key], f"{where}/{key}")
        return found
    if isinstance(single, list) and isinstance(cluster, list) and len(single) == len(cluster):
        return [
            line
            for index, pair in enumerate(zip(single, cluster, strict=True))
            for line in _differences(*pair, f"{where}[{index}]")
        ]
    return [] if single == cluster else [f"{where}: one server {str(single)[:200]!r}, cluster {str(cluster)[:200]!r}"]


def test_imports_refits_and_every_api_answer_on_citus_equal_those_of_one_server(media, tmp_path) -> None:
    if not citus_layout_active():
        pytest.skip("the test database is not on a Citus cluster (scripts/test.sh's Citus run puts it there)")
    single_url = os.environ.get("SINGLE_SERVER_DATABASE_URL")
    if not single_url:
        pytest.skip("SINGLE_SERVER_DATABASE_URL names no single server to compare with")
    files = _files(tmp_path)

    cluster = json.loads(json.dumps(answers_collect(files), sort_keys=True, default=str))
    single = _single_server(single_url, files, tmp_path)

    # The steps did what they should, on both: files imported (one by the SQL path, with duplicates),
    # a refit each time, the deletion handing lines over.
    assert [entry["status"] for entry in cluster["imports"]] == ["succeeded"] * 3
    assert [entry["load_path"] for entry in cluster["imports"]] == ["columnar", "sql", "columnar"]
    assert cluster["imports"][1]["duplicates"] == 400
    assert cluster["deletion"]["lines_kept"] == 400
    assert [refit["status"] for refit in cluster["refits"]] == ["succeeded", "succeeded"]
    # Every question is answered (movement needs two runs: the first round has one).
    unanswered = [
        f"{answers} {key}" for answers in ("after_imports", "after_deletion")
        for key, answer in cluster[answers].items() if answer["status"] != 200
    ]  # fmt: skip
    assert unanswered == [
        'after_imports /api/segmentation/movement?{"kind": "kmeans"}',
        'after_imports /api/segmentation/movement?{"kind": "rfm"}',
    ]
    assert len(cluster["after_imports"]) > 100
    differences = _differences(single, cluster)
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences[:200])
