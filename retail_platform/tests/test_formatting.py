import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import override_settings

from retail_platform import formatting

# What the formatter writes around a number: the minus sign held to what follows it, and the
# percent sign held to its number.
NEG = "\u2212\u2060"
PCT = "\u00a0%"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (1234567, 0, "1,234,567"),
        ("1234567.456", 0, "1,234,567"),
        (Decimal("1234.55"), 1, "1,234.6"),
        (0, 0, "0"),
        (-1500, 0, NEG + "1,500"),
        (-0.2, 0, "0"),  # rounds to zero: no sign
        (None, 0, "—"),
        ("not a number", 0, "—"),
        ("NaN", 0, "—"),
    ],
)
def test_thousands_groups_digits(value, places, expected) -> None:
    assert formatting.thousands(value, places) == expected


@override_settings(CURRENCY="USD")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234.5", "$1,234.50"),
        (Decimal("1000000"), "$1,000,000.00"),
        (-12, NEG + "$12.00"),
        ("-117105.512", NEG + "$117,105.51"),
        ("14.665", "$14.67"),  # half away from zero, as PostgreSQL rounds (not half to even)
        ("-0.125", NEG + "$0.13"),
        (-0.001, "$0.00"),
        (None, "—"),
    ],
)
def test_money_shows_currency_and_cents_with_the_sign_first(value, expected) -> None:
    assert formatting.money(value) == expected


@override_settings(CURRENCY="USD")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (999, "$999"),
        (6000, "$6K"),
        (45600, "$45.6K"),
        ("1234567.89", "$1.23M"),
        (1_500_000, "$1.5M"),
        (251_000_000, "$251M"),
        (999_999, "$1M"),
        (2_530_000_000, "$2.53B"),
        (-120_000, NEG + "$120K"),
        (-2_500_000, NEG + "$2.5M"),
    ],
)
def test_money_short_keeps_three_significant_digits_and_drops_trailing_zeros(value, expected) -> None:
    assert formatting.money_short(value) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("TRY", "₺1.00"), ("USD", "$1.00"), ("EUR", "€1.00"), ("GBP", "£1.00"), ("CHF", "CHF\u00a01.00")],
)
def test_the_symbol_comes_from_the_currency_code_and_an_unknown_code_shows_itself(code, expected) -> None:
    with override_settings(CURRENCY=code):
        assert formatting.money(1) == expected
        assert formatting.currency_code() == code


def test_the_demo_currency_is_turkish_lira_by_default() -> None:
    assert settings.CURRENCY == "TRY"
    assert formatting.money(-5) == NEG + "₺5.00"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [(0.1234, 1, "12.3" + PCT), (1, 0, "100" + PCT), ("0.5", 1, "50.0" + PCT), (-0.25, 0, NEG + "25" + PCT)],
)
def test_percent_reads_a_share(value, places, expected) -> None:
    assert formatting.percent(value, places) == expected
    assert formatting.percent(None) == "—"


def test_signed_percent_marks_the_direction() -> None:
    assert formatting.signed_percent(0.052) == "+5.2" + PCT
    assert formatting.signed_percent(-0.1) == NEG + "10.0" + PCT
    assert formatting.signed_percent(0) == "0.0" + PCT


@pytest.mark.parametrize(
    ("values", "zero", "expected"),
    [
        ([0, 9.7e6], True, [0, 2.5e6, 5e6, 7.5e6, 1e7]),
        ([12, 87], True, [0, 25, 50, 75, 100]),
        ([-117_105, 36_000], True, [-150_000, -100_000, -50_000, 0, 50_000]),
        ([0.05, 0.62], True, [0, 0.2, 0.4, 0.6, 0.8]),
        ([5, 5], True, [0, 2, 4, 6]),
        ([3.2, 3.9], False, [3.2, 3.4, 3.6, 3.8, 4.0]),
        ([], True, [0, 0.25, 0.5, 0.75, 1]),
        ([None, 3], True, [0, 1, 2, 3]),
    ],
)
def test_nice_ticks_cover_the_values_with_round_steps(values, zero, expected) -> None:
    assert formatting.nice_ticks(values, zero=zero) == pytest.approx(expected)


@override_settings(CURRENCY="USD")
def test_axis_ticks_are_labelled_like_the_tables() -> None:
    money = formatting.axis_ticks([-117_105, 36_000], kind="money")
    assert money["tickmode"] == "array"
    assert money["ticktext"] == [NEG + "$150K", NEG + "$100K", NEG + "$50K", "$0", "$50K"]
    shares = formatting.axis_ticks([0.62], kind="percent")
    assert shares["ticktext"] == ["0" + PCT, "20" + PCT, "40" + PCT, "60" + PCT, "80" + PCT]
    counts = formatting.axis_ticks([1234], kind="count")
    assert counts["ticktext"] == ["0", "500", "1,000", "1,500"]
    assert formatting.axis_ticks([2_400_000], kind="count")["ticktext"] == ["0", "1M", "2M", "3M"]


def _currency_in_a_fresh_process(value: str) -> subprocess.CompletedProcess[str]:
    code = "from retail_platform.settings.base import CURRENCY; print(CURRENCY)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "CURRENCY": value},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )


def test_the_currency_comes_from_the_environment_as_an_iso_code() -> None:
    assert _currency_in_a_fresh_process("usd").stdout.strip() == "USD"
    refused = _currency_in_a_fresh_process("lira")
    assert refused.returncode != 0
    assert "CURRENCY must be an ISO 4217 code" in refused.stderr


def test_filters_escape_nothing_they_did_not_make() -> None:
    rendered = Template("{% load formatting %}{{ v|thousands }}|{{ s }}").render(Context({"v": 1000, "s": "<b>"}))
    assert rendered == "1,000|&lt;b&gt;"


@override_settings(CURRENCY="EUR")
def test_the_money_filters_use_the_formatter() -> None:
    rendered = Template("{% load formatting %}{{ a|money }} {{ a|money_short }} {{ b|percent }}").render(
        Context({"a": -2500, "b": 0.5})
    )
    assert rendered == f"{NEG}€2,500.00 {NEG}€2.5K 50.0{PCT}"
