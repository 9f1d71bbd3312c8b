"""analytics.comparisons: the range a period is compared with, how much of each the data covers,
and a figure's change against it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from analytics import comparisons
from analytics.periods import DateRange

DATA = DateRange(date(2021, 1, 1), date(2023, 3, 8))  # the demo data's span


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (DateRange(date(2023, 3, 1), date(2023, 3, 31)), DateRange(date(2023, 1, 29), date(2023, 2, 28))),
        (DateRange(date(2024, 3, 1), date(2024, 3, 31)), DateRange(date(2024, 1, 30), date(2024, 2, 29))),
        (DateRange(date(2023, 3, 8), date(2023, 3, 8)), DateRange(date(2023, 3, 7), date(2023, 3, 7))),
        (DateRange(date(2023, 1, 1), date(2023, 1, 14)), DateRange(date(2022, 12, 18), date(2022, 12, 31))),
    ],
)
def test_the_previous_period_is_the_same_number_of_days_just_before(current: DateRange, expected: DateRange) -> None:
    previous = comparisons.previous_period(current)
    assert previous == expected
    assert previous.days == current.days
    assert previous.end + timedelta(days=1) == current.start


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (DateRange(date(2023, 3, 1), date(2023, 3, 8)), DateRange(date(2022, 3, 1), date(2022, 3, 8))),
        (DateRange(date(2024, 2, 29), date(2024, 2, 29)), DateRange(date(2023, 2, 28), date(2023, 2, 28))),
        (DateRange(date(2024, 2, 1), date(2024, 2, 29)), DateRange(date(2023, 2, 1), date(2023, 2, 28))),
        (DateRange(date(2025, 2, 28), date(2025, 3, 1)), DateRange(date(2024, 2, 28), date(2024, 3, 1))),
    ],
)
def test_the_previous_year_is_the_same_dates_with_29_february_on_the_28th(
    current: DateRange, expected: DateRange
) -> None:
    assert comparisons.previous_year(current) == expected


def test_a_change_against_a_fully_covered_period() -> None:
    against = comparisons.comparison(DateRange(date(2022, 3, 1), date(2022, 3, 31)), "previous_year", data=DATA)
    assert against.base == DateRange(date(2021, 3, 1), date(2021, 3, 31))
    result = comparisons.change(Decimal("2620000.00"), Decimal("2530000.00"), against=against)
    assert result.absolute == Decimal("90000.00")
    assert result.relative == 0.0356  # 90,000 / 2,530,000 = 0.035573...
    assert result.partial is False


def test_a_comparison_period_partly_before_the_data_is_partial() -> None:
    against = comparisons.comparison(DateRange(date(2021, 1, 10), date(2021, 1, 19)), "previous_period", data=DATA)
    assert against.base == DateRange(date(2020, 12, 31), date(2021, 1, 9))
    assert (against.base_days_covered, against.current_days_covered) == (9, 10)
    result = comparisons.change(120, 100, against=against)
    assert (result.absolute, result.relative, result.partial) == (20, 0.2, True)


def test_a_current_range_running_past_the_data_is_partial_and_narrowing_it_makes_it_like_for_like() -> None:
    year = DateRange(date(2023, 1, 1), date(2023, 12, 31))
    assert comparisons.comparison(year, "previous_year", data=DATA).partial is True
    to_date = year.intersection(DATA)
    assert to_date == DateRange(date(2023, 1, 1), date(2023, 3, 8))
    against = comparisons.comparison(to_date, "previous_year", data=DATA)
    assert against.base == DateRange(date(2022, 1, 1), date(2022, 3, 8))
    assert against.partial is False


def test_a_comparison_period_without_data_gives_no_change_rather_than_a_hundred_percent_rise() -> None:
    against = comparisons.comparison(DateRange(date(2021, 1, 1), date(2021, 3, 31)), "previous_year", data=DATA)
    assert against.has_base_data is False
    result = comparisons.change(Decimal("500.00"), Decimal(0), against=against)
    assert (result.base, result.absolute, result.relative, result.partial) == (None, None, None, False)


def test_a_zero_base_has_an_absolute_change_but_no_relative_one() -> None:
    against = comparisons.comparison(DateRange(date(2022, 3, 1), date(2022, 3, 31)), "previous_period", data=DATA)
    result = comparisons.change(Decimal("500.00"), Decimal("0.00"), against=against)
    assert (result.absolute, result.relative) == (Decimal("500.00"), None)


def test_a_rise_from_a_negative_base_reads_as_a_rise() -> None:
    against = comparisons.comparison(DateRange(date(2022, 3, 1), date(2022, 3, 31)), "previous_period", data=DATA)
    result = comparisons.change(Decimal("50.00"), Decimal("-100.00"), against=against)
    assert (result.absolute, result.relative) == (Decimal("150.00"), 1.5)


def test_an_empty_data_set_has_nothing_to_compare_with() -> None:
    against = comparisons.comparison(DateRange(date(2022, 3, 1), date(2022, 3, 31)), "previous_period", data=None)
    assert comparisons.change(0, 0, against=against).absolute is None


def test_a_comparison_counts_only_the_covered_days_of_each_span() -> None:
    coverage = (DateRange(date(2021, 1, 1), date(2021, 1, 31)), DateRange(date(2022, 1, 1), date(2022, 12, 31)))
    against = comparisons.comparison(DateRange(date(2022, 1, 1), date(2022, 3, 31)), "previous_year", coverage=coverage)
    assert (against.base_days_covered, against.current_days_covered) == (31, 90)
    assert against.has_base_data and against.partial
