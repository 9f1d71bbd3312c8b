"""Money as the product computes it: Decimal amounts rounded to cents, half away from zero, as every
page, answer and export shows them (formatting for display is `retail_platform.formatting`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | float | None) -> Decimal:
    """An amount rounded to cents (half up); None (an empty sum) is zero."""
    if value is None:
        return ZERO
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
