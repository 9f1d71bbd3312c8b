import numpy as np
import pytest

from segmentation.clv import gamma_gamma
from segmentation.clv.calibration import Calibration, PurchaseDays, Spend, calibrate, repeat_spend
from segmentation.clv.errors import CustomerValueError
from segmentation.clv.gamma_gamma import GammaGamma
from segmentation.clv.simulate import bgnbd_customers

# lifetimes 0.11.3 conditional_expected_average_profit at the CDNOW fit, for (x, mean) below.
LIFETIMES_ORDER_VALUES = [24.6288466562, 35.4406577812, 13.8705737586, 49.3762129719]


def test_cdnow_yardstick(cdnow: PurchaseDays, cdnow_calibration: Calibration) -> None:
    fit = gamma_gamma.fit(repeat_spend(cdnow, cdnow_calibration))
    p, q, gamma = fit.model.parameters
    assert (round(p, 2), round(q, 2), round(gamma, 2)) == (6.25, 3.74, 15.44)
    assert fit.customers == 946
    assert (fit.left_out_no_repeat, fit.left_out_not_positive) == (1411, 0)


def test_expected_order_value_weighs_the_population_mean_against_the_customers_own() -> None:
    model = GammaGamma(p=6.2495723, q=3.74422467, gamma=15.4435209)
    x, mean = np.array([1, 2, 5, 10.0]), np.array([20.0, 35.5, 12.0, 50.0])
    assert model.expected_order_value(x, mean) == pytest.approx(LIFETIMES_ORDER_VALUES, rel=1e-9)
    weight = model.p * x / (model.p * x + model.q - 1)
    assert model.expected_order_value(x, mean) == pytest.approx(weight * mean + (1 - weight) * model.population_mean())
    assert model.expected_order_value(np.zeros(1), np.array([999.0]))[0] == pytest.approx(model.population_mean())


def test_gradient_matches_finite_differences(cdnow: PurchaseDays, cdnow_calibration: Calibration) -> None:
    spend = repeat_spend(cdnow, cdnow_calibration)
    point = np.array([5.0, 4.0, 20.0])
    _, gradient = gamma_gamma.log_likelihood(point, spend)
    step = 1e-6 * point
    numeric = [
        (
            gamma_gamma.log_likelihood(point + step * unit, spend)[0]
            - gamma_gamma.log_likelihood(point - step * unit, spend)[0]
        )
        / (2 * step[index])
        for index, unit in enumerate(np.eye(3))
    ]
    assert gradient == pytest.approx(numeric, rel=1e-6)


def test_without_a_mean_order_value_the_model_says_so() -> None:
    with pytest.raises(CustomerValueError, match="no mean order value"):
        GammaGamma(p=2.0, q=0.8, gamma=10.0).expected_order_value(np.ones(1), np.ones(1))


def test_no_positive_repeat_spend_is_refused() -> None:
    empty = Spend(
        customer=np.zeros(0, np.int64),
        x=np.zeros(0),
        mean_value=np.zeros(0),
        left_out_no_repeat=5,
        left_out_not_positive=2,
    )
    with pytest.raises(CustomerValueError, match="positive net value"):
        gamma_gamma.fit(empty)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("truth", [(6.0, 4.0, 60.0), (2.5, 8.0, 400.0)])
def test_generated_spend_gives_back_its_parameters_within_three_standard_errors(
    seed: int, truth: tuple[float, float, float]
) -> None:
    purchases = bgnbd_customers(
        10_000, r=0.9, alpha=10.0, a=0.7, b=3.0, first_days=(0, 365), end=1095, spend=truth, seed=seed
    )
    fit = gamma_gamma.fit(repeat_spend(purchases, calibrate(purchases, calibration_end=1095)))
    errors = (fit.model.parameters - np.array(truth)) / fit.estimate.standard_errors
    assert np.all(np.abs(errors) < 3), errors
