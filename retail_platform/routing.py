"""URL helpers shared by the apps."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, re_path


def api_path(route: str, view: Any, name: str) -> URLPattern:
    """An API route that answers with and without a trailing slash (no redirect, so POST works too)."""
    route = route.strip("/")
    return re_path(rf"^{route}/?$", view, name=name)
