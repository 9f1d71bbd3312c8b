import itertools
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from analytics import periods
from analytics.periods import DateRange


@pytest.mark.parametrize(
    ("day", "kind", "label", "start", "end"),
    [
        (date(2023, 3, 8), "month", "2023-03", date(2023, 3, 1), date(2023, 3, 31)),
        (date(2024, 2, 10), "month", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        (date(2023, 3, 8), "quarter", "2023-Q1", date(2023, 1, 1), date(2023, 3, 31)),
        (date(2023, 12, 31), "quarter", "2023-Q4", date(2023, 10, 1), date(2023, 12, 31)),
        (date(2023, 3, 8), "year", "2023", date(2023, 1, 1), date(2023, 12, 31)),
        (date(2023, 3, 1), "week", "2023-W09", date(2023, 2, 27), date(2023, 3, 5)),
        # ISO weeks belong to the year of their Thursday.
        (date(2021, 1, 1), "week", "2020-W53", date(2020, 12, 28), date(2021, 1, 3)),
        (date(2024, 12, 31), "week", "2025-W01", date(2024, 12, 30), date(2025, 1, 5)),
    ],
)
def test_a_day_belongs_to_one_labelled_calendar_period(
    day: date, kind: periods.PeriodKind, label: str, start: date, end: date
) -> None:
    assert periods.period_start(day, kind) == start
    assert periods.period_end(day, kind) == end
    assert periods.period_label(day, kind) == label


def test_the_demo_months_end_with_a_partial_march() -> None:
    axis = periods.period_axis("month", first_day=date(2021, 1, 1), last_day=date(2023, 3, 8))
    assert len(axis) == 27
    assert axis[0].label == "2021-01" and axis[-1].label == "2023-03"
    assert [p.label for p in axis if p.partial] == ["2023-03"]
    assert (axis[-1].days_covered, axis[-1].days_in_period) == (8, 31)
    assert all(p.days_covered == p.days_in_period for p in axis[:-1])


def test_a_requested_range_narrows_the_coverage_of_its_first_and_last_period() -> None:
    axis = periods.period_axis(
        "month",
        first_day=date(2021, 1, 1),
        last_day=date(2023, 3, 8),
        date_from=date(2022, 2, 15),
        date_to=date(2022, 4, 10),
    )
    assert [(p.label, p.days_covered, p.days_in_period, p.partial) for p in axis] == [
        ("2022-02", 14, 28, True),
        ("2022-03", 31, 31, False),
        ("2022-04", 10, 30, True),
    ]


def test_a_range_beyond_the_data_is_covered_only_up_to_the_data() -> None:
    axis = periods.period_axis(
        "quarter", first_day=date(2021, 1, 1), last_day=date(2023, 3, 8), date_to=date(2023, 12, 31)
    )
    assert axis[-1].label == "2023-Q1"
    assert (axis[-1].days_covered, axis[-1].days_in_period) == (67, 90)


@pytest.mark.parametrize(
    ("first_day", "last_day", "date_from", "date_to"),
    [
        (None, None, None, None),
        (date(2021, 1, 1), date(2023, 3, 8), date(2024, 1, 1), None),
        (date(2021, 1, 1), date(2023, 3, 8), None, date(2020, 12, 31)),
    ],
)
def test_no_covered_day_means_no_period(
    first_day: date | None, last_day: date | None, date_from: date | None, date_to: date | None
) -> None:
    axis = periods.period_axis("month", first_day=first_day, last_day=last_day, date_from=date_from, date_to=date_to)
    assert axis == ()


@pytest.mark.parametrize(("kind", "freq"), [("week", "W-SUN"), ("month", "M"), ("quarter", "Q"), ("year", "Y")])
def test_the_axis_has_every_period_between_first_and_last_day_as_pandas_counts_them(
    kind: periods.PeriodKind, freq: str
) -> None:
    first, last = date(2019, 11, 20), date(2023, 3, 8)
    axis = periods.period_axis(kind, first_day=first, last_day=last)
    expected = pd.period_range(pd.Period(first, freq), pd.Period(last, freq), freq=freq)
    assert [p.start for p in axis] == [p.start_time.date() for p in expected]
    assert [p.end for p in axis] == [p.end_time.date() for p in expected]
    for before, after in itertools.pairwise(axis):
        assert after.start == before.end + timedelta(days=1)
    assert sum(p.days_covered for p in axis) == (last - first).days + 1


def test_a_month_without_sales_is_on_the_axis_as_a_zero() -> None:
    axis = periods.period_axis("month", first_day=date(1997, 11, 5), last_day=date(1998, 2, 28))
    totals = {date(1997, 11, 1): Decimal("10.00"), date(1998, 2, 1): Decimal("4.00")}
    placed = periods.on_axis(axis, totals, missing=Decimal(0))
    assert [(item.period.label, item.value, item.period.partial) for item in placed] == [
        ("1997-11", Decimal("10.00"), True),
        ("1997-12", Decimal(0), False),
        ("1998-01", Decimal(0), False),
        ("1998-02", Decimal("4.00"), False),
    ]


@pytest.mark.parametrize("stray", [date(1998, 3, 1), date(1997, 12, 15)])
def test_a_total_that_is_not_a_period_of_the_axis_is_an_error_not_dropped(stray: date) -> None:
    axis = periods.period_axis("month", first_day=date(1997, 11, 5), last_day=date(1998, 2, 28))
    with pytest.raises(ValueError, match=str(stray)):
        periods.on_axis(axis, {stray: Decimal(1)}, missing=Decimal(0))


def _demo_monthly(march_2023: Decimal) -> tuple[periods.PeriodValue[Decimal], ...]:
    axis = periods.period_axis("month", first_day=date(2021, 1, 1), last_day=date(2023, 3, 8))
    totals = {p.start: Decimal("2000000.00") + p.start.month for p in axis}
    totals[date(2021, 3, 1)] = Decimal("2530000.00")
    totals[date(2022, 3, 1)] = Decimal("2620000.00")
    totals[date(2023, 3, 1)] = march_2023
    del totals[date(2022, 7, 1)]  # a complete month without sales: a zero that counts
    return periods.on_axis(axis, totals, missing=Decimal(0))


def test_month_of_year_averages_leave_the_partial_march_out() -> None:
    averages = periods.month_of_year_averages(_demo_monthly(Decimal("670000.00")))
    assert [a.month for a in averages] == list(range(1, 13))
    march = averages[2]
    assert march.average == Decimal("2575000.00")  # (2.53 M + 2.62 M) / 2, not / 3 with 0.67 M
    assert march.years == (2021, 2022)
    assert march.left_out == (2023,)
    assert averages[0].years == (2021, 2022, 2023) and averages[0].average == Decimal("2000001.00")
    july = averages[6]
    assert july.years == (2021, 2022) and july.average == Decimal("1000003.50")  # (2,000,007 + 0) / 2


def test_a_month_of_year_with_no_complete_month_has_no_average() -> None:
    axis = periods.period_axis("month", first_day=date(2023, 1, 10), last_day=date(2023, 3, 8))
    placed = periods.on_axis(axis, {p.start: Decimal(100) for p in axis}, missing=Decimal(0))
    averages = {a.month: a for a in periods.month_of_year_averages(placed)}
    assert averages[1].average is None and averages[1].left_out == (2023,)
    assert averages[2].average == Decimal("100.00") and averages[2].years == (2023,)
    assert averages[3].average is None and averages[3].left_out == (2023,)
    assert averages[4].average is None and averages[4].years == () and averages[4].left_out == ()


def test_month_of_year_averages_refuse_weeks() -> None:
    axis = periods.period_axis("week", first_day=date(2023, 1, 2), last_day=date(2023, 1, 8))
    with pytest.raises(ValueError, match="months"):
        periods.month_of_year_averages(periods.on_axis(axis, {}, missing=Decimal(0)))


def test_a_range_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="after it ends"):
        DateRange(date(2023, 3, 2), date(2023, 3, 1))


@pytest.mark.parametrize("kind", periods.PERIOD_KINDS)
def test_period_index_numbers_the_periods_consecutively_as_the_calendar_does(kind: periods.PeriodKind) -> None:
    days = np.arange(periods.day_number(date(1995, 12, 20)), periods.day_number(date(2031, 1, 10)), dtype=np.int32)
    index = periods.period_index(days, kind)
    starts = [periods.period_start(periods.day_from_number(d), kind) for d in days.tolist()]
    changes = np.flatnonzero(np.array([a != b for a, b in itertools.pairwise(starts)])) + 1
    # The number rises by one exactly where the calendar period changes, and maps back to its start.
    assert set(np.diff(index).tolist()) == {0, 1}
    assert np.array_equal(np.flatnonzero(np.diff(index)) + 1, changes)
    for i in [0, *changes.tolist()]:
        assert periods.period_start_of_index(int(index[i]), kind) == starts[i]
        assert periods.period_index_of(starts[i], kind) == index[i]
    assert periods.period_index_of(periods.EPOCH, kind) == 0


def test_an_axis_over_two_eras_leaves_the_uncovered_years_out_and_marks_the_edges_partial() -> None:
    coverage = (DateRange(date(2021, 1, 1), date(2023, 3, 8)), DateRange(date(1997, 1, 1), date(1998, 6, 30)))
    axis = periods.period_axis("month", coverage=coverage)
    labels = [period.label for period in axis]
    assert labels[:18] == [f"1997-{m:02d}" for m in range(1, 13)] + [f"1998-{m:02d}" for m in range(1, 7)]
    assert labels[18] == "2021-01" and labels[-1] == "2023-03"
    assert len(axis) == 18 + 27
    assert [period.label for period in axis if period.partial] == ["2023-03"]
    quarters = periods.period_axis("year", coverage=coverage)
    assert [(period.label, period.partial) for period in quarters] == [
        ("1997", False),
        ("1998", True),
        ("2021", False),
        ("2022", False),
        ("2023", True),
    ]
