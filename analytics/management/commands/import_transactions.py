"""Import a CSV file of transaction lines: `import_transactions FILE [--mapping NAME|FILE.json] [--sync]`.

Without --sync the batch is queued for the django-q2 worker and its id printed. With --sync the import
and the job the worker would run after it (the segmentation refit, the same task) run in this
process. The command exits non-zero when the import fails.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

# Loaded with the command rather than in the middle of the import (see analytics.tasks).
import analytics.services.import_csv.columnar  # noqa: F401
from analytics.models import ImportBatch
from analytics.services.import_batches import REFIT_TASK, import_batch_create, import_batch_run
from retail_platform.errors import ApplicationError
from segmentation.models import SegmentationRun

FIRST_ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = "Import a CSV file of transaction lines (queued for the worker, or in this process with --sync)."
    # Django's system checks load every URL module (every page and API, the customer-value code with
    # them: 0.8 s) before a daily import could start; `manage.py check`, `migrate` and the servers run
    # them, and the tests run `check --deploy`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to import.")
        parser.add_argument(
            "--mapping",
            default="mall",
            help="A preset name (mall, online_retail_ii or a saved mapping) or a JSON mapping file. Default: mall.",
        )
        parser.add_argument("--sync", action="store_true", help="Import now, in this process, with the follow-ups.")
        parser.add_argument("--skip-invalid", action="store_true", help="Import the valid rows and report the others.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object with the outcome.")
        parser.add_argument(
            "--no-refit", action="store_true", help="With --sync: skip the segmentation refit (benchmarks)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        mapping_name, mapping = _mapping_option(options["mapping"])
        try:
            batch = import_batch_create(
                path_or_file=path,
                file_name=path.name,
                source=ImportBatch.Source.COMMAND,
                mapping_name=mapping_name,
                mapping=mapping,
                skip_invalid=options["skip_invalid"],
                enqueue=not options["sync"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error

        if not options["sync"]:
            self._report(batch, options, queued=True)
            return

        batch = import_batch_run(batch_id=batch.id, queue_refit=False)
        refit = None
        if batch.status == ImportBatch.Status.SUCCEEDED:
            refit = self._follow_ups(batch, refit=not options["no_refit"])
        self._report(batch, options, queued=False, refit=refit)
        if batch.status != ImportBatch.Status.SUCCEEDED:
            raise CommandError(batch.message or "The import failed.", returncode=1)

    def _follow_ups(self, batch: ImportBatch, *, refit: bool) -> dict[str, Any] | None:
        """The job the worker runs after an import (the segmentation refit), through the same task.

        A refit that cannot segment the data (too few customers, say) records why on its run; the
        import still succeeded, so that is reported, not an error."""
        if not refit:
            return None
        started = time.perf_counter()
        # By the name the worker runs it by: importing the refit (SciPy, scikit-learn) costs a command
        # that does not refit about half a second of its start-up.
        refit_task = import_string(REFIT_TASK)
        run = SegmentationRun.objects.get(pk=refit_task(import_batch_id=batch.id))
        timings = {**batch.timings, "refit": round(time.perf_counter() - started, 3)}
        ImportBatch.objects.filter(pk=batch.pk).update(timings=timings)
        batch.timings = timings
        return {"run_id": run.pk, "status": run.status, "message": run.message}

    def _report(
        self, batch: ImportBatch, options: dict[str, Any], *, queued: bool, refit: dict[str, Any] | None = None
    ) -> None:
        if options["json"]:
            payload = {
                "batch_id": batch.id,
                "status": batch.status,
                "rows_read": batch.rows_read,
                "imported": batch.imported,
                "rejected": batch.rejected,
                "duplicates": batch.duplicates,
                "errors": batch.errors[:FIRST_ERRORS_SHOWN],
                "error_count": batch.error_count,
                "warnings": batch.warnings,
                "message": batch.message,
                "timings": batch.timings,
                "load_path": batch.load_path,
            }
            if refit is not None:
                payload["refit"] = refit
            self.stdout.write(json.dumps(payload))
            return
        if queued:
            self.stdout.write(f"Queued import batch {batch.id} ({batch.file_name}) for the worker.")
            return
        self.stdout.write(batch.message)
        for warning in batch.warnings:
            self.stdout.write(f"warning: {warning}")
        for error in batch.errors[:FIRST_ERRORS_SHOWN]:
            column = f", column '{error['column']}'" if error["column"] else ""
            self.stdout.write(f"row {error['row']}{column}: {error['reason']} ({error['value']!r})")
        if batch.error_count > FIRST_ERRORS_SHOWN:
            self.stdout.write(f"... and {batch.error_count - FIRST_ERRORS_SHOWN} more problems.")
        if refit is not None:
            self.stdout.write(
                f"Segmentation refit: run {refit['run_id']} {refit['status']}. {refit['message']}".strip()
            )
        if batch.timings:
            stages = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in batch.timings.items())
            path = f" ({batch.get_load_path_display()} path)" if batch.load_path else ""
            self.stdout.write(f"Batch {batch.id}: {batch.status}{path}. Timings: {stages}.")


def _mapping_option(value: str) -> tuple[str, dict[str, Any] | None]:
    """A preset name, or a JSON mapping file (its name ends with .json)."""
    if not value.lower().endswith(".json"):
        return value, None
    path = Path(value)
    try:
        mapping = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise CommandError(f"{value}: cannot read the mapping file ({error.strerror}).") from error
    except ValueError as error:
        raise CommandError(f"{value}: the mapping file is not valid JSON ({error}).") from error
    return path.stem[:100], mapping
