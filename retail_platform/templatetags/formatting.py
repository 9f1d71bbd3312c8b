"""Numbers for people: thousands separators, money with its currency, shares as percentages.

Every filter accepts ints, floats, Decimals and the decimal strings the selectors return, and shows
an em dash for a missing value instead of failing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

MISSING = "—"


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def currency_symbol() -> str:
    return str(getattr(settings, "CURRENCY_SYMBOL", "₺"))


@register.filter
def thousands(value: Any, places: int = 0) -> str:
    """1234567 -> "1,234,567"; with places, 1234.5|thousands:1 -> "1,234.5"."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:,.{int(places)}f}"


@register.filter
def money(value: Any, places: int = 2) -> str:
    """1234.5 -> "₺1,234.50" (settings.CURRENCY_SYMBOL); a negative amount keeps its sign in front."""
    number = _number(value)
    if number is None:
        return MISSING
    sign = "-" if number < 0 else ""
    return f"{sign}{currency_symbol()}{abs(number):,.{int(places)}f}"


@register.filter
def money_short(value: Any) -> str:
    """Large amounts for KPI cards: 1234567 -> "₺1.23M", 45600 -> "₺45.6K", 999 -> "₺999"."""
    number = _number(value)
    if number is None:
        return MISSING
    sign = "-" if number < 0 else ""
    size = abs(number)
    for limit, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if size >= limit:
            scaled = size / limit
            places = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{sign}{currency_symbol()}{scaled:,.{places}f}{suffix}"
    return f"{sign}{currency_symbol()}{size:,.0f}"


@register.filter
def percent(value: Any, places: int = 1) -> str:
    """A share between 0 and 1 as a percentage: 0.1234 -> "12.3 %"."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number * 100:,.{int(places)}f} %"


@register.filter
def signed_percent(value: Any, places: int = 1) -> str:
    """A change as a signed percentage: 0.052 -> "+5.2 %", -0.1 -> "\u221210.0 %" (a minus sign)."""
    number = _number(value)
    if number is None:
        return MISSING
    text = f"{abs(number) * 100:,.{int(places)}f} %"
    if number > 0:
        return "+" + text
    if number < 0:
        return "\u2212" + text
    return text


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
