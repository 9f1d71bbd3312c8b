"""How far an import is, as the Imports page shows it: one bar for the whole import, and the step.

The pipeline reports a stage and that stage's own percent (read 0-100, then validate 0-100, ...;
see analytics.services.import_csv). Shown as they come, the bar said "0 % aggregates" for the
whole last stage and then jumped to 100 %. Each stage here owns a span of the bar, in the rough
proportions of its time on a large file (the import benchmark: reading and checking a fifth to a
quarter, loading the lines about half, the totals the rest), and the stage's percent moves the
bar within its span. The totals stage reports no percent of its own: the bar waits at its start
while the step says what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (stage, what it does, the bar's span in percent)
STAGES: tuple[tuple[str, str, int, int], ...] = (
    ("read", "reading the file", 0, 25),
    ("validate", "checking the rows", 25, 35),
    ("load", "loading the lines", 35, 90),
    ("aggregates", "updating the totals", 90, 100),
)


@dataclass(frozen=True)
class ImportProgress:
    percent: int
    # "Step 3 of 4: loading the lines", "Waiting for a worker", or "" once the batch ended.
    step: str


def import_progress(*, status: str, stage: str, stage_percent: Any) -> ImportProgress:
    if status == "succeeded":
        return ImportProgress(percent=100, step="")
    if status == "queued":
        return ImportProgress(percent=0, step="Waiting for a worker")
    percent = max(0, min(100, int(stage_percent or 0)))
    for number, (name, doing, start, end) in enumerate(STAGES, start=1):
        if name == stage:
            overall = start + (end - start) * percent // 100
            step = f"Step {number} of {len(STAGES)}: {doing}" if status == "running" else ""
            return ImportProgress(percent=min(overall, 99), step=step)
    return ImportProgress(percent=0, step="Starting" if status == "running" else "")
