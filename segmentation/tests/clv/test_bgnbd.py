import mpmath
import numpy as np
import pytest
from scipy.special import betaln, hyp2f1

from segmentation.clv import bgnbd
from segmentation.clv.bgnbd import BgNbd
from segmentation.clv.calibration import Calibration, Triples, calibrate
from segmentation.clv.simulate import bgnbd_customers

# lifetimes 0.11.3 (numpy 2.4.6, pandas 3.1.1, Python 3.11, in a throwaway virtualenv) at the CDNOW fit below,
# for the customers of CUSTOMERS: conditional_expected_number_of_purchases_up_to_time(39, ...),
# conditional_probability_alive(...), expected_number_of_purchases_up_to_time([1, 10, 39, 78]).
CDNOW_FIT = BgNbd(r=0.24259452, alpha=4.41360205, a=0.79292203, b=2.42590681)
CUSTOMERS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 1.71, 38.86), (10, 35.0, 38.86), (5, 5.0, 38.86), (30, 38.0, 39.0)]
LIFETIMES_EXPECTED = [0.1947820344, 1.2259068299, 0.2032548048, 6.1637187356, 0.0103534398, 19.9783582817]
LIFETIMES_ALIVE = [1.0, 0.7266091615, 0.2122319391, 0.8469568112, 0.0027194078, 0.9514271767]
LIFETIMES_UNCONDITIONAL = [0.0531842906, 0.4317586916, 1.1950100208, 1.8579583576]


def test_cdnow_yardstick(cdnow_calibration: Calibration) -> None:
    fit = bgnbd.fit(cdnow_calibration.triples)
    r, alpha, a, b = fit.model.parameters
    assert (round(r, 3), round(alpha, 3), round(a, 3), round(b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(fit.log_likelihood, 2) == -9582.43
    assert fit.customers == 2357
    assert fit.estimate.converged
    # lifetimes 0.11.3's standard_errors_ on Fader & Hardie's CDNOW summary (same throwaway virtualenv).
    assert fit.estimate.standard_errors == pytest.approx([0.01256, 0.37822, 0.18572, 0.70535], rel=0.002)


def test_predictions_match_lifetimes_at_the_same_parameters() -> None:
    triples = Triples.of(*zip(*CUSTOMERS, strict=True))
    assert CDNOW_FIT.expected_purchases(np.array([39.0]), triples)[0] == pytest.approx(
        LIFETIMES_EXPECTED, rel=1e-8, abs=1e-9
    )
    assert CDNOW_FIT.p_alive(triples) == pytest.approx(LIFETIMES_ALIVE, rel=1e-8, abs=1e-9)
    assert CDNOW_FIT.unconditional_purchases(np.array([1.0, 10, 39, 78])) == pytest.approx(
        LIFETIMES_UNCONDITIONAL, rel=1e-8
    )


@pytest.mark.parametrize("x", [0, 1, 4, 25, 120])
def test_conditional_expectation_matches_the_paper_formula_without_the_euler_transformation(x: int) -> None:
    r, alpha, a, b = 0.8, 6.0, 0.6, 2.5
    T, t_x, t = 30.0, 20.0, 52.0
    z = t / (alpha + T + t)
    numerator = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    denominator = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    model = BgNbd(r=r, alpha=alpha, a=a, b=b)
    got = model.expected_purchases(np.array([t]), Triples.of([x], [t_x if x else 0.0], [T]))[0, 0]
    assert got == pytest.approx(numerator / denominator, rel=1e-9)


@pytest.mark.parametrize("x", [0, 5, 20, 50])
def test_a_fit_whose_beta_narrows_to_a_point_still_predicts_finite_purchases(x: int) -> None:
    # A BG/NBD fit on demo data (10,000 customers, three files of consecutive periods) that did not
    # converge: a and b in the hundreds of millions. Euler's transformed function overflows there (the
    # refit failed on the NaN); the values are mpmath's, at 50 digits, of the paper's formula.
    r, alpha, a, b = 1.6019, 12.244, 11668000.0, 629110000.0
    T, t = 85.0, 52.0
    c = a + b + x - 1
    with mpmath.workdps(50):
        z = mpmath.mpf(t) / (alpha + T + t)
        expected = c / (a - 1) * (1 - (1 - z) ** (r + x) * mpmath.hyp2f1(r + x, b + x, c, z))
    model = BgNbd(r=r, alpha=alpha, a=a, b=b)
    got = model._if_alive(np.array([[t]]), np.array([float(x)]), np.array([T]))[0, 0]
    assert np.isfinite(got)
    assert got == pytest.approx(float(expected), rel=1e-9)


def test_likelihood_is_the_papers_for_one_customer() -> None:
    r, alpha, a, b = 0.5, 3.0, 0.9, 2.0
    x, t_x, T = 3.0, 10.0, 30.0
    from scipy.special import gammaln

    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = np.exp(betaln(a, b + x) - (r + x) * np.log(alpha + T))
    dropped = np.exp(betaln(a + 1, b + x - 1) - (r + x) * np.log(alpha + t_x))
    value, _ = bgnbd.log_likelihood(np.array([r, alpha, a, b]), Triples.of([x], [t_x], [T]))
    assert value == pytest.approx(common + np.log(alive + dropped), rel=1e-12)


@pytest.mark.parametrize("parameters", [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 3.0, 0.7), (0.1, 40.0, 0.2, 9.0)])
def test_gradient_matches_finite_differences(cdnow_calibration: Calibration, parameters: tuple[float, ...]) -> None:
    point = np.array(parameters)
    _, gradient = bgnbd.log_likelihood(point, cdnow_calibration.triples)
    step = 1e-6 * point
    numeric = [
        (
            bgnbd.log_likelihood(point + step * unit, cdnow_calibration.triples)[0]
            - bgnbd.log_likelihood(point - step * unit, cdnow_calibration.triples)[0]
        )
        / (2 * step[index])
        for index, unit in enumerate(np.eye(4))
    ]
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-3)


def test_one_time_buyers_are_alive_whatever_their_age_the_known_weakness() -> None:
    triples = Triples.of([0, 0, 0], [0, 0, 0], [1.0, 100.0, 1000.0])
    assert CDNOW_FIT.p_alive(triples).tolist() == [1.0, 1.0, 1.0]


def test_nothing_is_expected_in_no_time_and_more_in_more_time() -> None:
    triples = Triples.of(*zip(*CUSTOMERS, strict=True))
    expected = CDNOW_FIT.expected_purchases(np.array([0.0, 10.0, 52.0]), triples)
    assert expected[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(expected[1] < expected[2])


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("truth", [(0.9, 10.0, 0.7, 3.0), (0.5, 4.0, 1.2, 5.0)])
def test_generated_customers_give_back_their_parameters_within_three_standard_errors(
    seed: int, truth: tuple[float, float, float, float]
) -> None:
    r, alpha, a, b = truth
    purchases = bgnbd_customers(10_000, r=r, alpha=alpha, a=a, b=b, first_days=(0, 365), end=1095, seed=seed)
    fit = bgnbd.fit(calibrate(purchases, calibration_end=1095).triples)
    errors = (fit.model.parameters - np.array(truth)) / fit.estimate.standard_errors
    assert np.all(np.abs(errors) < 3), errors
    assert np.all(fit.estimate.standard_errors < 0.1 * np.array(truth))  # and the errors are informative
