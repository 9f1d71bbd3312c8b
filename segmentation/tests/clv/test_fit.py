import json

import numpy as np
import pytest

from segmentation.clv import CustomerValueError, CustomerValueFit, PurchaseDays, fit_customer_value
from segmentation.clv.fit import round_significant

from .conftest import CALIBRATION_END, HOLDOUT_END


@pytest.fixture(scope="module")
def fitted(cdnow: PurchaseDays) -> CustomerValueFit:
    return fit_customer_value(cdnow, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)


def test_the_fit_reports_the_yardstick_in_the_commands_json_shape(fitted: CustomerValueFit) -> None:
    answer = json.loads(json.dumps(fitted.as_dict()))
    bg, pnbd, gg, holdout = answer["bgnbd"], answer["pareto_nbd"], answer["gamma_gamma"], answer["holdout"]
    assert (round(bg["r"], 3), round(bg["alpha"], 3), round(bg["a"], 3), round(bg["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert bg["log_likelihood"] == -9582.43
    assert bg["time_unit"] == "weeks"
    assert (round(pnbd["r"], 2), round(pnbd["alpha"], 2), round(pnbd["s"], 2), round(pnbd["beta"], 2)) == (
        0.55,
        10.58,
        0.61,
        11.67,
    )
    assert pnbd["log_likelihood"] == pytest.approx(-9594.97, abs=0.05)
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2), gg["customers"]) == (6.25, 3.74, 15.44, 946)
    assert holdout["actual_repeat_purchases"] == 1882
    assert holdout["by_model"]["bgnbd"]["predicted_repeat_purchases"] == 1653.4
    assert answer["chosen"] == "pareto_nbd"
    assert holdout["predicted_repeat_purchases"] == holdout["by_model"]["pareto_nbd"]["predicted_repeat_purchases"]
    assert holdout["calibration"] == ["1997-01-01", "1997-09-30"]
    assert holdout["holdout"] == ["1997-10-01", "1998-06-30"]
    assert set(bg["standard_errors"]) == {"r", "alpha", "a", "b"}
    bars = holdout["by_model"]["bgnbd"]["by_calibration_repeat_purchases"]
    assert [bar["calibration_repeat_purchases"] for bar in bars][-1] == "7+"
    tracking = holdout["by_model"]["pareto_nbd"]["tracking"]
    assert (len(tracking), tracking[-1]["last_day"], tracking[-1]["in_holdout"]) == (78, "1998-06-30", True)


def test_no_number_in_the_answer_carries_floating_point_noise(fitted: CustomerValueFit) -> None:
    text = json.dumps(fitted.as_dict())
    numbers = [token.strip("[]{},") for token in text.split() if any(c.isdigit() for c in token) and "." in token]
    assert numbers
    assert all(len(number.split(".")[-1].rstrip('"')) <= 6 for number in numbers), numbers


def test_the_chosen_model_is_refitted_on_all_data(cdnow: PurchaseDays, fitted: CustomerValueFit) -> None:
    assert fitted.transactions.model.name == fitted.chosen == "pareto_nbd"
    assert fitted.everything.calibration_end == HOLDOUT_END
    assert fitted.transactions.customers == 2357
    # More data: the refit's likelihood covers 78 weeks, not 39.
    assert fitted.transactions.log_likelihood < fitted.pareto_nbd.log_likelihood
    assert fitted.spend.customers > fitted.calibration_spend.customers
    values = fitted.customer_values(cdnow, margin=0.4)
    assert values.model == "pareto_nbd"
    assert len(values.clv) == 2357
    assert np.all(values.clv >= 0)


def _customers(count: int, repeat_day: int | None) -> PurchaseDays:
    days, offsets = [], [0]
    for number in range(count):
        days.append(number % 40)
        if repeat_day is not None and number % 2 == 0:
            days.append(repeat_day + number % 5)
        offsets.append(len(days))
    return PurchaseDays.from_arrays(offsets, days, np.full(len(days), 10.0))


@pytest.mark.parametrize(
    ("purchases", "message"),
    [
        (_customers(300, None), "No customer bought on more than one day"),
        (_customers(60, 50), "at least 100 customers"),
        (_customers(300, 120), "No customer bought a second time before"),
    ],
    ids=["the public mall file: no repeat customers", "fewer than 100 customers", "no repeaters in calibration"],
)
def test_data_the_models_cannot_describe_is_refused_before_any_fit(purchases: PurchaseDays, message: str) -> None:
    with pytest.raises(CustomerValueError, match=message):
        fit_customer_value(purchases, calibration_end=100, holdout_end=200)


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.24259452, 5, 0.24259),
        (4.41360205, 5, 4.4136),
        (15443.52096, 5, 15444.0),
        (0.0, 5, 0.0),
        (0.000123456, 3, 0.000123),
    ],
)
def test_parameters_are_rounded_to_significant_digits(value: float, digits: int, expected: float) -> None:
    assert round_significant(value, digits) == expected
