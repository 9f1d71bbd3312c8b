"""Template filters for numbers: thin wrappers of retail_platform.formatting (the one formatter of
pages, charts and messages), plus the page helpers the templates share."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from retail_platform import formatting

register = template.Library()


@register.filter
def thousands(value: Any, places: int = 0) -> str:
    """1234567 -> "1,234,567"; with places, 1234.5|thousands:1 -> "1,234.5"."""
    return formatting.thousands(value, places)


@register.filter
def money(value: Any, places: int = 2) -> str:
    """1234.5 -> "₺1,234.50" in the currency of settings.CURRENCY."""
    return formatting.money(value, places)


@register.filter
def money_short(value: Any) -> str:
    """Large amounts for KPI cards: 1234567 -> "₺1.23M", 45600 -> "₺45.6K", 999 -> "₺999"."""
    return formatting.money_short(value)


@register.filter
def percent(value: Any, places: int = 1) -> str:
    """A share between 0 and 1 as a percentage: 0.1234 -> "12.3 %"."""
    return formatting.percent(value, places)


@register.filter
def signed_percent(value: Any, places: int = 1) -> str:
    """A change as a signed percentage: 0.052 -> "+5.2 %", -0.1 -> "\u221210.0 %"."""
    return formatting.signed_percent(value, places)


@register.filter
def progress_state(status: str) -> str:
    """CSS modifier for an import batch status."""
    return {"succeeded": "ok", "failed": "bad", "running": "busy", "queued": "wait"}.get(str(status), "wait")


@register.inclusion_tag("includes/chart.html")
def chart(item: Any, height: str = "") -> dict[str, Any]:
    """Render one retail_platform.charts.Chart: a titled figure, its text alternative and its JSON."""
    return {"chart": item, "height": height}


@register.simple_tag
def query_with(request: Any, **changes: Any) -> SafeString:
    """The current query string with some parameters replaced (empty value removes it)."""
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return format_html("?{}", encoded) if encoded else format_html("?")


@register.inclusion_tag("includes/change_badge.html")
def change_badge(change: Any) -> dict[str, Any]:
    """A figure's change against the comparison range ({"base", "absolute", "relative"}): the relative
    change with its sign, an arrow and a colour (rises green, falls red); a dash without a base."""
    if not change:
        return {"change": None}
    relative = change.get("relative")
    if relative is None:
        return {"change": change, "text": "new" if change.get("absolute") else "—", "title": "The base is zero"}
    base = change.get("base")
    direction = "up" if relative > 0 else "down" if relative < 0 else "flat"
    return {
        "change": change,
        "direction": direction,
        "arrow": {"up": "▲", "down": "▼", "flat": "■"}[direction],
        "text": formatting.signed_percent(relative),
        "title": f"{formatting.signed_percent(relative)} against {_base_text(base)}",
    }


def _base_text(base: Any) -> str:
    return formatting.thousands(base, 0 if isinstance(base, int) else 2)
