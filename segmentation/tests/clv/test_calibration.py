from datetime import date

import numpy as np
import pytest

from segmentation.clv.calibration import (
    PurchaseDays,
    calibrate,
    check_describable,
    day_date,
    day_number,
    default_calibration_end,
    repeat_spend,
    unique_triples,
)
from segmentation.clv.errors import CustomerValueError


def _purchases(*customers: list[tuple[int, float]]) -> PurchaseDays:
    days = [day for customer in customers for day, _ in customer]
    values = [value for customer in customers for _, value in customer]
    offsets = np.concatenate([[0], np.cumsum([len(customer) for customer in customers])])
    return PurchaseDays.from_arrays(offsets, days, values)


def test_day_numbers_count_from_2000() -> None:
    assert day_number(date(2000, 1, 1)) == 0
    assert day_number(date(1997, 1, 1)) == -1095
    assert day_date(day_number(date(2023, 3, 8))) == date(2023, 3, 8)


def test_x_t_x_and_T_are_counted_to_the_last_calibration_day_in_weeks() -> None:
    purchases = _purchases(
        [(0, 10.0), (7, 20.0), (21, 30.0), (30, 5.0), (40, 6.0)],  # 2 before day 28 after the first, 2 after
        [(14, 8.0)],  # one purchase: x = 0
        [],  # only returns: no purchase day at all
        [(28, 9.0), (29, 1.0)],  # first purchase on the calibration end: not in the calibration
        [(27, 3.0), (35, 4.0)],  # bought on the last calibration day
    )
    calibration = calibrate(purchases, calibration_end=28, holdout_end=42)
    assert calibration.customer.tolist() == [0, 1, 4]
    assert calibration.x.tolist() == [2, 0, 0]
    assert calibration.t_x_days.tolist() == [21, 0, 0]
    assert calibration.T_days.tolist() == [27, 13, 0]
    assert calibration.t_x.tolist() == [3.0, 0.0, 0.0]
    assert calibration.T.tolist() == pytest.approx([27 / 7, 13 / 7, 0.0])
    assert calibration.holdout_x.tolist() == [2, 0, 1]
    assert calibration.holdout_weeks == 2.0


def test_a_purchase_on_the_last_calibration_day_has_t_x_equal_to_T() -> None:
    calibration = calibrate(_purchases([(0, 1.0), (27, 1.0)]), calibration_end=28)
    assert calibration.t_x_days.tolist() == calibration.T_days.tolist() == [27]


@pytest.mark.parametrize(
    ("offsets", "days", "message"),
    [
        ([0, 2], [5, 3], "distinct and sorted"),
        ([0, 2], [5, 5], "distinct and sorted"),
        ([0, 3], [1, 2], "end at the number"),
        ([1, 2], [1, 2], "start at 0"),
    ],
)
def test_purchase_days_that_break_the_layout_are_refused(offsets: list[int], days: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PurchaseDays.from_arrays(offsets, days, np.ones(len(days)))


def test_a_day_may_repeat_across_customers() -> None:
    purchases = _purchases([(3, 1.0), (5, 1.0)], [(3, 1.0)], [(1, 1.0), (3, 2.0)])
    assert purchases.customers == 3


def test_spend_input_is_the_mean_of_repeat_days_and_says_who_is_left_out() -> None:
    purchases = _purchases(
        [(0, 100.0), (3, 10.0), (5, 20.0), (40, 1000.0)],  # first and post-calibration days excluded
        [(1, 50.0)],  # no repeat purchase
        [(2, 30.0), (4, -10.0)],  # net returns on the repeat day: mean not positive
        [(2, 30.0), (4, -10.0), (6, 16.0)],  # mean (-10 + 16) / 2 = 3
    )
    spend = repeat_spend(purchases, calibrate(purchases, calibration_end=28))
    assert spend.customer.tolist() == [0, 3]
    assert spend.x.tolist() == [2.0, 2.0]
    assert spend.mean_value.tolist() == pytest.approx([15.0, 3.0])
    assert (spend.left_out_no_repeat, spend.left_out_not_positive) == (1, 1)


def test_unique_triples_count_customers_and_map_each_back() -> None:
    x = np.array([0, 2, 0, 2, 1])
    t_x = np.array([0, 10, 0, 10, 3])
    T = np.array([20, 30, 20, 30, 30])
    triples = unique_triples(x, t_x, T)
    assert len(triples) == 3
    assert triples.weight.sum() == 5
    assert triples.x[triples.of_customer].tolist() == x.tolist()
    assert (triples.t_x[triples.of_customer] * 7).round().tolist() == t_x.tolist()
    assert (triples.T[triples.of_customer] * 7).round().tolist() == T.tolist()


@pytest.mark.parametrize(
    ("first", "end", "expected_holdout"),
    [(0, 1_000, 250), (0, 200, 90), (0, 361, 91)],
)
def test_default_holdout_is_the_last_quarter_and_at_least_90_days(first: int, end: int, expected_holdout: int) -> None:
    purchases = _purchases([(first, 1.0), (first + 5, 1.0)])
    assert default_calibration_end(purchases, end=end) == end - expected_holdout


def _many(customers: int, *, repeat_on: int | None) -> PurchaseDays:
    rows = []
    for number in range(customers):
        days = [(number % 50, 10.0)]
        if repeat_on is not None and number % 3 == 0:
            days.append((repeat_on + number % 7, 10.0))
        rows.append(days)
    return _purchases(*rows)


@pytest.mark.parametrize(
    ("purchases", "message"),
    [
        (_many(500, repeat_on=None), "No customer bought on more than one day"),
        (_many(99, repeat_on=60), "at least 100 customers who bought before 2000-03-31; the data has 99"),
        (_many(500, repeat_on=200), "No customer bought a second time before 2000-03-31"),
    ],
    ids=["no repeat customers", "too few customers", "no repeaters in the calibration"],
)
def test_data_the_models_cannot_describe_gets_a_readable_reason(purchases: PurchaseDays, message: str) -> None:
    calibration = calibrate(purchases, calibration_end=90, holdout_end=300)
    with pytest.raises(CustomerValueError, match=message):
        check_describable(calibration, purchases)


def test_describable_data_passes() -> None:
    purchases = _many(500, repeat_on=60)
    check_describable(calibrate(purchases, calibration_end=90), purchases)
