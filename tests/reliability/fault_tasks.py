"""Tasks for the fault tests only: the worker imports them by their dotted path."""

from __future__ import annotations

import time


def sleep_task(seconds: float) -> str:
    time.sleep(seconds)
    return f"slept {seconds} s"
