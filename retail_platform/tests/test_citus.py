"""The table layout for a Citus cluster: every table of the apps has a place and a reason; on one server
nothing moves; on a cluster (the suite's Citus run) every table is where the layout says, co-located."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from analytics.tests.factories import TransactionLineFactory
from retail_platform import citus

pytestmark = pytest.mark.django_db

APPS = ("analytics", "segmentation", "campaigns")


def test_every_table_of_the_apps_has_a_place_and_a_reason() -> None:
    tables = {model._meta.db_table for app in APPS for model in apps.get_app_config(app).get_models()}
    placed = {placement.table for placement in citus.LAYOUT}
    assert tables <= placed
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'analytics_wh_%'"
        )
        work_tables = {row[0] for row in cursor.fetchall()}
    assert work_tables and work_tables <= placed  # the read model's work tables (not models)
    assert all(placement.reason for placement in citus.LAYOUT)
    assert [placement.table for placement in citus.LAYOUT].index(citus.COLOCATION_ANCHOR) < min(
        index for index, placement in enumerate(citus.LAYOUT) if placement.kind == "distributed"
        and placement.table != citus.COLOCATION_ANCHOR
    )  # fmt: skip


def test_sizes_and_estimates_of_the_lines_are_read_on_either_layout() -> None:
    TransactionLineFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_transactionline")
        assert citus.estimated_rows(cursor, "analytics_transactionline") == 5
        assert citus.relation_size(cursor, "analytics_transactionline") > 0


def test_on_one_server_the_command_says_so_and_moves_nothing(capsys) -> None:
    if citus.citus_version() is not None:
        pytest.skip("this database has Citus (the layout test below covers it)")
    assert citus.tables_distribute() == []
    call_command("distribute_tables")
    assert "no Citus extension" in capsys.readouterr().out
    assert citus.placements_now() == {}
    assert not citus.citus_layout_active()


def test_on_a_cluster_every_table_is_where_the_layout_says_and_co_located(capsys) -> None:
    if citus.citus_version() is None:
        pytest.skip("no Citus here (scripts/test.sh's Citus run has it)")
    now = citus.placements_now()
    for placement in citus.LAYOUT:
        assert now.get(placement.table, "coordinator") == placement.kind, placement.table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h' "
            "AND logicalrelid::regclass::text = ANY(%s)",
            [[placement.table for placement in citus.LAYOUT if placement.kind == "distributed"]],
        )
        assert cursor.fetchone()[0] == 1
    # Idempotent: run again, nothing moves.
    assert {laid_out.done for laid_out in citus.tables_distribute()} == {"already"}
    call_command("distribute_tables")
    assert "0 table(s) placed" in capsys.readouterr().out
