"""API rate limits with a fixed-window counter: one cache increment per request.

DRF's own throttles keep every request's timestamp in a list that is read and written back whole
on each request, so a generous rate (100,000 an hour) costs megabytes of pickling per call. A
counter per client and window costs the same whatever the rate; it allows up to twice the rate
across a window boundary, which is fine for abuse protection.

The cache is per process (LocMemCache): with N web workers a client gets up to N times the rate.
"""

from __future__ import annotations

from typing import Any

from rest_framework import throttling
from rest_framework.request import Request


class _FixedWindowMixin:
    rate: str | None
    key: str | None
    num_requests: int
    duration: int
    cache: Any
    timer: Any
    get_cache_key: Any

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        counter_key = f"{self.key}:{window}"
        self.cache.add(counter_key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(counter_key)
        except ValueError:  # the counter expired between add and incr
            self.cache.set(counter_key, 1, timeout=self.duration + 1)
            count = 1
        self.window_end = (window + 1) * self.duration
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self.window_end - self.now)


class AnonRateThrottle(_FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous callers, by address (scope `anon`)."""


class UserRateThrottle(_FixedWindowMixin, throttling.UserRateThrottle):
    """Signed-in callers, by user (scope `user`)."""
