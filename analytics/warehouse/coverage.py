"""Which days the data covers: the union of the spans of the batches in the read model (each covers its
new lines' first to last day, recorded when it was added). Days outside it are unknown, not days
without sales (see analytics.periods)."""

from __future__ import annotations

import datetime

from analytics.models import ImportBatch
from analytics.periods import DateRange
from analytics.warehouse.answers import process_cached
from analytics.warehouse.version import data_version_get


def data_coverage_get(*, data_version: int | None = None) -> tuple[DateRange, ...]:
    """The covered spans of the data version (the current one unless given), sorted and merged
    (touching spans become one)."""
    version = data_version_get() if data_version is None else data_version
    return process_cached("coverage", version, _coverage_read)


def _coverage_read() -> tuple[DateRange, ...]:
    spans = sorted(
        ImportBatch.objects.exclude(status=ImportBatch.Status.DELETED)
        .filter(first_date__isnull=False)
        .values_list("first_date", "last_date")
        .distinct()
    )
    merged: list[DateRange] = []
    for first, last in spans:
        assert first is not None and last is not None  # recorded together
        if merged and first <= merged[-1].end + datetime.timedelta(days=1):
            if last > merged[-1].end:
                merged[-1] = DateRange(merged[-1].start, last)
        else:
            merged.append(DateRange(first, last))
    return tuple(merged)
