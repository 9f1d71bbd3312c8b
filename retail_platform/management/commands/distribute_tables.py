"""Lay the tables out for a Citus cluster (`retail_platform.citus.LAYOUT`), idempotently.

Run it on the coordinator after `migrate` (which runs it too): lines, claims, transactions and
customer summaries distributed by customer and co-located; stores, categories, payment methods and
customers as reference tables; the rollups and the application's own tables on the coordinator.
On a database without Citus it says so and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from retail_platform.citus import LAYOUT, citus_version, tables_distribute


class Command(BaseCommand):
    help = (
        "On a Citus coordinator, distribute the per-customer tables by customer (co-located), make the "
        "dimensions reference tables and keep the rest on the coordinator. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        version = citus_version()
        if version is None:
            self.stdout.write(
                "This database has no Citus extension: the tables stay as they are (one PostgreSQL server). "
                "On a Citus coordinator, CREATE EXTENSION citus and add the workers first."
            )
            return
        reasons = {placement.table: placement.reason for placement in LAYOUT}
        moved = 0
        for laid_out in tables_distribute():
            if laid_out.done == "made":
                moved += 1
                rows = f", {laid_out.rows_moved:,} rows moved" if laid_out.rows_moved else ""
                self.stdout.write(f"{laid_out.table}: now {laid_out.kind}{rows} ({reasons[laid_out.table]})")
            elif laid_out.done == "missing":
                self.stdout.write(f"{laid_out.table}: not in this database (migrate first)")
            elif options["verbosity"] > 1:
                self.stdout.write(f"{laid_out.table}: {laid_out.kind} already")
        self.stdout.write(f"Citus {version}: {moved} table(s) placed, the others were in place.")
