import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaln

from segmentation.clv import pareto_nbd
from segmentation.clv.calibration import Calibration, Triples, calibrate
from segmentation.clv.pareto_nbd import ParetoNbd
from segmentation.clv.simulate import pareto_nbd_customers

# lifetimes 0.11.3 (numpy 2.4.6, pandas 3.1.1, Python 3.11, in a throwaway virtualenv) at the CDNOW fit below,
# as in test_bgnbd.
CDNOW_FIT = ParetoNbd(r=0.55327705, alpha=10.57768342, s=0.60623998, beta=11.66873514)
CUSTOMERS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 1.71, 38.86), (10, 35.0, 38.86), (5, 5.0, 38.86), (30, 38.0, 39.0)]
LIFETIMES_EXPECTED = [0.1070588678, 1.4550987648, 0.1709788117, 6.4169114917, 0.0323845097, 19.6543049452]
LIFETIMES_ALIVE = [0.2950958053, 0.8691156624, 0.167871285, 0.9273031937, 0.0088934656, 0.983403157]
LIFETIMES_UNCONDITIONAL = [0.0510063762, 0.4277935584, 1.2134040341, 1.9098661685]

HAND_BUILT = Triples.of(
    [0, 0, 1, 2, 5, 10, 30, 3, 1], [0, 0, 2.0, 10, 30, 35, 38.5, 0.5, 39], [39, 10, 39, 39, 39, 39, 39, 39, 39.0]
)


def _by_integration(parameters: tuple[float, ...], triples: Triples) -> float:
    """The note's likelihood with A0 as the integral it comes from, by adaptive quadrature."""
    r, alpha, s, beta = parameters
    total = 0.0
    for x, t_x, T in zip(triples.x, triples.t_x, triples.T, strict=True):
        dead = quad(lambda u, x=x: (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1), t_x, T, epsabs=0, epsrel=1e-13)[0]
        alive = (alpha + T) ** -(r + x) * (beta + T) ** -s
        total += gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.log(alive + s * dead)
    return total


def test_cdnow_yardstick(cdnow_calibration: Calibration) -> None:
    fit = pareto_nbd.fit(cdnow_calibration.triples)
    r, alpha, s, beta = fit.model.parameters
    assert (round(r, 2), round(alpha, 2), round(s, 2), round(beta, 2)) == (0.55, 10.58, 0.61, 11.67)
    assert fit.log_likelihood == pytest.approx(-9594.97, abs=0.05)
    assert fit.estimate.converged


@pytest.mark.parametrize(
    "parameters",
    [
        (0.55, 10.58, 0.61, 11.67),  # alpha < beta
        (0.55, 20.0, 0.61, 3.0),  # alpha > beta
        (1.0, 5.0, 1.0, 5.0),  # alpha = beta, s = 1
        (0.3, 0.05, 0.5, 30.0),  # z up to 0.998: scipy's hyp2f1 instead of the series
        (0.3, 60.0, 0.5, 0.02),
    ],
)
def test_likelihood_matches_numerical_integration(parameters: tuple[float, ...]) -> None:
    value, _ = pareto_nbd.log_likelihood(np.array(parameters), HAND_BUILT)
    assert value == pytest.approx(_by_integration(parameters, HAND_BUILT), abs=1e-9)


@pytest.mark.parametrize(
    "parameters", [(0.55, 10.58, 0.61, 11.67), (0.55, 20.0, 0.61, 3.0), (2.0, 1.0, 0.3, 50.0), (0.3, 0.05, 0.5, 30.0)]
)
def test_gradient_matches_finite_differences(parameters: tuple[float, ...]) -> None:
    point = np.array(parameters)
    _, gradient = pareto_nbd.log_likelihood(point, HAND_BUILT)
    step = 1e-6 * point
    numeric = [
        (
            pareto_nbd.log_likelihood(point + step * unit, HAND_BUILT)[0]
            - pareto_nbd.log_likelihood(point - step * unit, HAND_BUILT)[0]
        )
        / (2 * step[index])
        for index, unit in enumerate(np.eye(4))
    ]
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_heavy_buyers_stay_finite_where_the_textbook_form_underflows() -> None:
    triples = Triples.of([400, 400], [100.0, 150.0], [156.0, 156.0])
    value, gradient = pareto_nbd.log_likelihood(np.array([0.55, 10.58, 0.61, 11.67]), triples)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    assert (0.55 + 10.58) ** -400 == 0.0  # (alpha + T)^-(r + x) alone is 0 in floating point


def test_predictions_match_lifetimes_at_the_same_parameters() -> None:
    triples = Triples.of(*zip(*CUSTOMERS, strict=True))
    assert CDNOW_FIT.expected_purchases(np.array([39.0]), triples)[0] == pytest.approx(
        LIFETIMES_EXPECTED, rel=1e-8, abs=1e-9
    )
    assert CDNOW_FIT.p_alive(triples) == pytest.approx(LIFETIMES_ALIVE, rel=1e-8, abs=1e-9)
    assert CDNOW_FIT.unconditional_purchases(np.array([1.0, 10, 39, 78])) == pytest.approx(
        LIFETIMES_UNCONDITIONAL, rel=1e-8
    )


def test_s_equal_to_one_is_the_limit_of_its_neighbours() -> None:
    triples = Triples.of(*zip(*CUSTOMERS, strict=True))
    at_one = ParetoNbd(r=0.5, alpha=10.0, s=1.0, beta=12.0).expected_purchases(np.array([39.0]), triples)
    around = [
        ParetoNbd(r=0.5, alpha=10.0, s=s, beta=12.0).expected_purchases(np.array([39.0]), triples)
        for s in (1 - 1e-6, 1 + 1e-6)
    ]
    assert at_one == pytest.approx((around[0] + around[1]) / 2, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("truth", [(0.8, 8.0, 0.6, 12.0), (0.5, 5.0, 1.5, 40.0)])
def test_generated_customers_give_back_their_parameters_within_three_standard_errors(
    seed: int, truth: tuple[float, float, float, float]
) -> None:
    r, alpha, s, beta = truth
    purchases = pareto_nbd_customers(10_000, r=r, alpha=alpha, s=s, beta=beta, first_days=(0, 365), end=1095, seed=seed)
    fit = pareto_nbd.fit(calibrate(purchases, calibration_end=1095).triples)
    errors = (fit.model.parameters - np.array(truth)) / fit.estimate.standard_errors
    assert np.all(np.abs(errors) < 3), errors
