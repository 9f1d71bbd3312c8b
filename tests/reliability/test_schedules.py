"""The recurring schedules the README promises exist after `setup_schedules`, and a real worker runs
them: the inbox scan every minute, the sweep of stuck imports every 5 minutes."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule, Task

from analytics.models import ImportBatch
from tests.reliability.data import MALL_HEADER

INBOX = "analytics.tasks.import_inbox_scan_task"
SWEEP = "analytics.tasks.import_batches_sweep_task"


def _declared() -> dict[str, tuple[str, str, int | None, int]]:
    return {
        schedule.name: (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats)
        for schedule in Schedule.objects.all()
    }


@pytest.mark.django_db
def test_setup_schedules_declares_the_inbox_every_minute_and_the_sweep_every_five_minutes() -> None:
    call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115  (idempotent)

    assert _declared() == {
        "import-inbox": (INBOX, Schedule.MINUTES, 1, -1),
        "import-stuck-batches-sweep": (SWEEP, Schedule.MINUTES, 5, -1),
    }
    for func in (INBOX, SWEEP):
        assert callable(import_string(func))


@pytest.mark.worker
def test_a_worker_runs_the_schedules_and_plans_their_next_runs(
    qcluster_worker_factory, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_INBOX_DIR = tmp_path / "inbox"
    settings.IMPORT_INBOX_DIR.mkdir()
    export = settings.IMPORT_INBOX_DIR / "daily.csv"
    export.write_text(",".join(MALL_HEADER) + "\nI1,C1,Female,28,Books,1,15.15,Cash,5/8/2022,Kanyon\n")
    old = time.time() - 60
    os.utime(export, (old, old))  # not a file still being written
    call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115
    due = timezone.now() - dt.timedelta(seconds=1)
    Schedule.objects.update(next_run=due)
    started = timezone.now()

    qcluster_worker_factory()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ran = set(Task.objects.filter(started__gte=started, success=True).values_list("func", flat=True))
        if {INBOX, SWEEP} <= ran:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the worker did not run both schedules within 120 s (ran: {ran})")

    batch = ImportBatch.objects.get()
    assert (batch.source, batch.status, batch.imported) == (ImportBatch.Source.INBOX, "succeeded", 1)
    assert (settings.IMPORT_INBOX_DIR / "done" / f"batch-{batch.id}--daily.csv").exists()
    planned = dict(Schedule.objects.values_list("name", "next_run"))
    assert planned["import-inbox"] - due == dt.timedelta(minutes=1)
    assert planned["import-stuck-batches-sweep"] - due == dt.timedelta(minutes=5)
