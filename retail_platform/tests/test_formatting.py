from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import override_settings

from retail_platform.templatetags import formatting


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (1234567, 0, "1,234,567"),
        ("1234567.456", 0, "1,234,567"),
        (Decimal("1234.55"), 1, "1,234.6"),
        (0, 0, "0"),
        (None, 0, "—"),
        ("not a number", 0, "—"),
    ],
)
def test_thousands_groups_digits(value, places, expected) -> None:
    assert formatting.thousands(value, places) == expected


@override_settings(CURRENCY_SYMBOL="$")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234.5", "$1,234.50"),
        (Decimal("1000000"), "$1,000,000.00"),
        (-12, "-$12.00"),
        (None, "—"),
    ],
)
def test_money_shows_currency_and_cents(value, expected) -> None:
    assert formatting.money(value) == expected


@override_settings(CURRENCY_SYMBOL="$")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (999, "$999"),
        (45600, "$45.6K"),
        ("1234567.89", "$1.23M"),
        (251_000_000, "$251M"),
        (-2_500_000, "-$2.50M"),
    ],
)
def test_money_short_scales_large_amounts(value, expected) -> None:
    assert formatting.money_short(value) == expected


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [(0.1234, 1, "12.3 %"), (1, 0, "100 %"), ("0.5", 1, "50.0 %"), (None, 1, "—")],
)
def test_percent_reads_a_share(value, places, expected) -> None:
    assert formatting.percent(value, places) == expected


def test_signed_percent_marks_the_direction() -> None:
    assert formatting.signed_percent(0.052) == "+5.2 %"
    assert formatting.signed_percent(-0.1) == "\u221210.0 %"
    assert formatting.signed_percent(0) == "0.0 %"


def test_filters_escape_nothing_they_did_not_make() -> None:
    rendered = Template("{% load formatting %}{{ v|thousands }}|{{ s }}").render(Context({"v": 1000, "s": "<b>"}))
    assert rendered == "1,000|&lt;b&gt;"
