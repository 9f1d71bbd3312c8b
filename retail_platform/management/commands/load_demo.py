"""Load the bundled demo data set into an empty database: generate it, import it, refit the segments.

`make run` calls this every time; it does nothing once the database holds transactions.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.demo_data import demo_rows_write
from analytics.models import ImportBatch, TransactionLine
from analytics.services.import_batches import import_batch_create, import_batch_run

DEFAULT_ROWS = 100_000
DEFAULT_SEED = 7


class Command(BaseCommand):
    help = (
        "When the database holds no transactions, generate the demo data set (lines in the layout of "
        "customer_shopping_data.csv, with repeat customers, discounts and cost), import it in this "
        "process and refit the customer segments. Does nothing when data exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="Lines to generate (default 100,000).")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed of the generator.")
        parser.add_argument(
            "--dir",
            type=Path,
            default=settings.BASE_DIR / "var" / "demo",
            help="Where the generated file is kept (default var/demo/).",
        )
        parser.add_argument("--no-refit", action="store_true", help="Skip the segmentation refit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if TransactionLine.objects.exists():
            self.stdout.write("The database already holds transactions: no demo data loaded.")
            return
        rows: int = options["rows"]
        if rows <= 0:
            raise CommandError("--rows must be a positive number.")

        started = time.perf_counter()
        path = Path(options["dir"]) / f"demo_sales_{rows}_seed{options['seed']}.csv"
        if path.exists():
            self.stdout.write(f"Using the demo file {path}.")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".part")
            demo_rows_write(partial, rows=rows, seed=options["seed"])
            partial.rename(path)
            self.stdout.write(f"Generated {rows:,} demo lines in {path} ({time.perf_counter() - started:.1f} s).")

        batch = import_batch_create(
            path_or_file=path, file_name=path.name, source=ImportBatch.Source.COMMAND, enqueue=False
        )
        # The refit runs below, in this process, rather than queued for a worker.
        batch = import_batch_run(batch_id=batch.id, queue_refit=False)
        if batch.status != ImportBatch.Status.SUCCEEDED:
            raise CommandError(f"The demo import (batch {batch.id}) failed: {batch.message}")
        self.stdout.write(
            f"Imported batch {batch.id}: {batch.rows_read:,} rows read, {batch.imported:,} imported, "
            f"{batch.rejected:,} rejected, {batch.duplicates:,} duplicates."
        )

        if options["no_refit"]:
            self.stdout.write("Segmentation refit skipped (--no-refit).")
        else:
            self._refit(batch.id)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {time.perf_counter() - started:.1f} s."))

    def _refit(self, batch_id: int) -> None:
        from segmentation.services.refit import segmentation_run_create

        refit_started = time.perf_counter()
        run = segmentation_run_create(import_batch_id=batch_id)
        seconds = time.perf_counter() - refit_started
        if run.status == run.Status.SUCCEEDED:
            self.stdout.write(f"Customer segments refitted (run {run.pk}, {seconds:.1f} s).")
        else:
            self.stderr.write(f"The segmentation refit (run {run.pk}) did not succeed: {run.message}")
