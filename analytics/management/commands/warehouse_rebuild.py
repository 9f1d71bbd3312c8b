"""`python manage.py warehouse_rebuild`: build the read model again from every line (for repair), under the
data-write lock, in one transaction; print what it took."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from analytics.warehouse import warehouse_rebuild
from retail_platform.locks import data_write_lock


class Command(BaseCommand):
    help = "Rebuild every table of the read model (analytics.warehouse) from the transaction lines."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            data_write_lock()
            change = warehouse_rebuild()
        steps = ", ".join(f"{step} {seconds:.2f} s" for step, seconds in change.timings.items())
        self.stdout.write(
            f"Read model rebuilt from {change.parts:,} transaction parts in {time.perf_counter() - started:.2f} s "
            f"({steps}); data version {change.data_version}."
        )
