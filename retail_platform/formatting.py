"""Numbers for people: one set of rules for every page, table, chart (axis ticks and hover labels
alike) and message, so a figure reads the same wherever it appears.

- Money: the currency of the CURRENCY setting (an ISO 4217 code), its symbol before the amount,
  thousands separated, cents: "₺1,234.50". A code without a symbol here shows itself: "CHF 1,234.50".
- Short money (cards, axis ticks): "₺999", "₺6K", "₺45.6K", "₺1.23M", "₺2.5B"; three significant
  digits at most, trailing zeros dropped.
- Counts: "1,234,567". Shares: "12.3 %".
- A negative number starts with the minus sign (U+2212) followed by a word joiner (U+2060), so
  a line never breaks between the sign and the amount: "\u2212₺117,105.51". The unit of a
  percentage is kept on the number's line by a no-break space.

Every function accepts ints, floats, Decimals and decimal strings, and shows an em dash for a
missing or unreadable value instead of failing. Exports and the API carry plain decimals, never
these strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings

MISSING = "—"
MINUS = "\u2212"
WORD_JOINER = "\u2060"
NO_BREAK_SPACE = "\u00a0"
NEGATIVE = MINUS + WORD_JOINER
DEFAULT_CURRENCY = "TRY"

# Symbols of common currencies, written before the amount. Any other code shows as itself.
CURRENCY_SYMBOLS: dict[str, str] = {
    "TRY": "₺",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "RUB": "₽",
    "UAH": "₴",
    "ILS": "₪",
    "NGN": "₦",
    "PHP": "₱",
    "VND": "₫",
    "BRL": "R$",
    "AUD": "A$",
    "CAD": "CA$",
    "NZD": "NZ$",
    "HKD": "HK$",
    "SGD": "S$",
    "MXN": "MX$",
}
SHORT_SCALES = ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K"))


def currency_code() -> str:
    return str(getattr(settings, "CURRENCY", DEFAULT_CURRENCY))


def currency_symbol(code: str | None = None) -> str:
    """The text written before an amount: the symbol, or the code and a no-break space."""
    code = code or currency_code()
    return CURRENCY_SYMBOLS.get(code, code + NO_BREAK_SPACE)


def number_or_none(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _fixed(number: Decimal, places: int) -> str:
    """The number with `places` decimals and thousands separated, rounded half away from zero (as
    PostgreSQL rounds amounts: 14.665 -> 14.67; Python's own format would round half to even)."""
    return f"{number.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP):,.{int(places)}f}"


def _trimmed(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def thousands(value: Any, places: int = 0) -> str:
    """1234567 -> "1,234,567"; with places, 1234.5 -> "1,234.5" (places=1)."""
    number = number_or_none(value)
    if number is None:
        return MISSING
    body = _fixed(abs(number), places)
    return NEGATIVE + body if number < 0 and _nonzero(body) else body


def _nonzero(body: str) -> bool:
    return any(digit in body for digit in "123456789")


def money(value: Any, places: int = 2) -> str:
    """1234.5 -> "₺1,234.50"; -12 -> "\u2212₺12.00" (the sign first, held to the amount)."""
    number = number_or_none(value)
    if number is None:
        return MISSING
    body = _fixed(abs(number), places)
    sign = NEGATIVE if number < 0 and _nonzero(body) else ""
    return f"{sign}{currency_symbol()}{body}"


def short(value: Any) -> str:
    """A large number in three significant digits at most: 45600 -> "45.6K", 1234567 -> "1.23M"."""
    number = number_or_none(value)
    if number is None:
        return MISSING
    size = abs(number)
    body = _fixed(size, 0)
    for limit, suffix in SHORT_SCALES:
        # Rounded first, so 999,999 reads "1M" rather than "1,000K".
        if size >= limit * Decimal("0.9995"):
            scaled = size / limit
            places = 2 if scaled < 10 else 1 if scaled < 100 else 0
            body = _trimmed(_fixed(scaled, places)) + suffix
            break
    return NEGATIVE + body if number < 0 and _nonzero(body) else body


def money_short(value: Any) -> str:
    """Amounts for cards and axis ticks: 1234567 -> "₺1.23M", 45600 -> "₺45.6K", 999 -> "₺999"."""
    number = number_or_none(value)
    if number is None:
        return MISSING
    body = short(abs(number))
    sign = NEGATIVE if number < 0 and _nonzero(body) else ""
    return f"{sign}{currency_symbol()}{body}"


def percent(value: Any, places: int = 1) -> str:
    """A share between 0 and 1 as a percentage: 0.1234 -> "12.3 %" (a no-break space before %)."""
    number = number_or_none(value)
    if number is None:
        return MISSING
    body = f"{_fixed(abs(number) * 100, places)}{NO_BREAK_SPACE}%"
    return NEGATIVE + body if number < 0 and _nonzero(body) else body


def signed_percent(value: Any, places: int = 1) -> str:
    """A change as a signed percentage: 0.052 -> "+5.2 %", -0.1 -> "\u221210.0 %"."""
    number = number_or_none(value)
    if number is None:
        return MISSING
    text = percent(abs(number), places)
    if number > 0 and _nonzero(text):
        return "+" + text
    if number < 0 and _nonzero(text):
        return NEGATIVE + text
    return text


# --- Chart axes: tick values chosen here and labelled by the functions above, so an axis reads
# like the tables next to it (plotly's own tick labels put the sign after the symbol, "₺-120k").

TICK_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_ticks(values: Iterable[float | int | Decimal | None], *, count: int = 5, zero: bool = True) -> list[float]:
    """Round values from below the smallest to above the largest of `values` (and 0 when `zero`),
    about `count` of them, evenly spaced by 1, 2, 2.5 or 5 times a power of ten."""
    numbers = [float(value) for value in values if value is not None and math.isfinite(float(value))]
    if zero:
        numbers.append(0.0)
    if not numbers:
        return [0.0, 1.0]
    low, high = min(numbers), max(numbers)
    if high == low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in TICK_STEPS if factor * magnitude >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    ticks = [round(first + index * step, 10) for index in range(round((last - first) / step) + 1)]
    return [0.0 if tick == 0 else tick for tick in ticks]


def _labels(ticks: list[float], kind: str) -> list[str]:
    if kind == "money":
        return [money_short(tick) for tick in ticks]
    if kind == "percent":
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        places = 0 if round(step * 100, 6) == round(step * 100) else 1
        return [percent(tick, places) for tick in ticks]
    if max((abs(tick) for tick in ticks), default=0) >= 100_000:
        return [short(tick) for tick in ticks]
    places = 0 if all(float(tick).is_integer() for tick in ticks) else 1
    return [thousands(tick, places) for tick in ticks]


def axis_ticks(
    values: Iterable[float | int | Decimal | None], *, kind: str = "count", count: int = 5, zero: bool = True
) -> dict[str, Any]:
    """A plotly axis's ticks for these values: {"tickmode": "array", "tickvals", "ticktext"}, where
    kind is "money", "percent" (shares, 0.25 = 25 %) or "count"."""
    ticks = nice_ticks(values, count=count, zero=zero)
    return {"tickmode": "array", "tickvals": ticks, "ticktext": _labels(ticks, kind)}


def currency_context(request: Any) -> dict[str, str]:
    """Template context: the currency every amount is in (a page footer names it)."""
    return {"currency_code": currency_code()}
