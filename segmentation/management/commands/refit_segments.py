"""`python manage.py refit_segments [--k N] [--as-of DATE]`: refit now, print the run, exit non-zero on failure."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segmentation.clustering import K_CANDIDATES
from segmentation.services.refit import segmentation_run_create


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date written YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Refit the customer segmentation (RFM scores and K-Means segments) on all the data and make it active."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--k",
            type=int,
            choices=K_CANDIDATES,
            help="Number of K-Means segments (default: chosen by silhouette over 3..8).",
        )
        parser.add_argument(
            "--as-of",
            type=_date,
            dest="as_of",
            help="As-of date YYYY-MM-DD (default: the day after the last transaction); later lines are ignored.",
        )

    def handle(self, *args: Any, k: int | None = None, as_of: datetime.date | None = None, **options: Any) -> None:
        run = segmentation_run_create(k=k, as_of=as_of)
        if run.status != run.Status.SUCCEEDED or run.as_of is None:
            raise CommandError(f"Segmentation run #{run.pk} failed: {run.message}")
        lines = [
            f"Segmentation run #{run.pk} succeeded in {run.duration_seconds:.2f} s and is active.",
            f"  as of {run.as_of.isoformat()}: {run.customers} customers, k = {run.k}, "
            f"silhouette {run.silhouette if run.silhouette is not None else 'n/a'}, inertia {run.inertia:.1f}",
            f"  frequency informative: {'yes' if run.frequency_informative else 'no'}",
            "  stages (s): " + ", ".join(f"{stage} {seconds}" for stage, seconds in run.timings.items()),
            "  segments:",
        ]
        lines += [
            f"    {entry['cluster']}. {entry['name']}: {entry['customers']} customers "
            f"(centroid: {entry['recency_days']:.0f} days, {entry['frequency']:.1f} purchases, {entry['monetary']:.2f})"
            for entry in run.clusters
        ]
        if run.message:
            lines.append(f"  note: {run.message}")
        self.stdout.write("\n".join(lines))
