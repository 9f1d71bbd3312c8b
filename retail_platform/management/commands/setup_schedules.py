"""Declare every recurring django-q2 schedule, idempotently: run it as often as you like."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "import-inbox",
        "func": "analytics.tasks.import_inbox_scan_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
    {
        "name": "import-stuck-batches-sweep",
        "func": "analytics.tasks.import_batches_sweep_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
    },
]


class Command(BaseCommand):
    help = "Create or update the recurring task schedules."

    def handle(self, *args: Any, **options: Any) -> None:
        for spec in SCHEDULES:
            defaults = {k: v for k, v in spec.items() if k != "name"}
            _, created = Schedule.objects.update_or_create(name=spec["name"], defaults={**defaults, "repeats": -1})
            self.stdout.write(f"{'Created' if created else 'Updated'} schedule {spec['name']}")
