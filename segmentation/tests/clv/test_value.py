import numpy as np
import pytest

from segmentation.clv import bgnbd, gamma_gamma, pareto_nbd, value
from segmentation.clv.calibration import PurchaseDays, calibrate, repeat_spend
from segmentation.clv.gamma_gamma import SpendFit
from segmentation.clv.model import TransactionFit
from segmentation.clv.value import CustomerValues, customer_values, segment_values

from .conftest import HOLDOUT_END

WEEKS_PER_YEAR = 365.25 / 7


@pytest.fixture(scope="module")
def models(cdnow: PurchaseDays) -> tuple[TransactionFit, TransactionFit, SpendFit]:
    everything = calibrate(cdnow, calibration_end=HOLDOUT_END)
    return (
        bgnbd.fit(everything.triples),
        pareto_nbd.fit(everything.triples),
        gamma_gamma.fit(repeat_spend(cdnow, everything)),
    )


def _values(cdnow: PurchaseDays, transactions: TransactionFit, spend: SpendFit, **settings: float) -> CustomerValues:
    return customer_values(cdnow, as_of=HOLDOUT_END, transactions=transactions, spend=spend, **settings)  # type: ignore[arg-type]


def _discounted_reference(fit: TransactionFit, cdnow: PurchaseDays, horizon_days: int, rate: float) -> np.ndarray:
    """Discounted expected purchases by the midpoint rule on 2,048 steps of exp(-d t) dE(t) (no integration
    by parts, no Gauss-Legendre)."""
    triples = calibrate(cdnow, calibration_end=HOLDOUT_END).triples
    horizon = horizon_days / 7
    edges = np.linspace(0, horizon, 2049)
    expected = fit.model.expected_purchases(edges, triples)
    middle = (edges[1:] + edges[:-1]) / 2
    increments = np.diff(expected, axis=0)
    return (np.exp(-np.log1p(rate) / WEEKS_PER_YEAR * middle) @ increments)[triples.of_customer]


@pytest.mark.parametrize("which", [0, 1])
def test_clv_is_margin_times_order_value_times_discounted_purchases(
    cdnow: PurchaseDays, models: tuple[TransactionFit, TransactionFit, SpendFit], which: int
) -> None:
    transactions, spend = models[which], models[2]
    values = _values(cdnow, transactions, spend, margin=0.3)
    assert values.model == transactions.model.name
    assert len(values.customer) == 2357
    discounted = _discounted_reference(transactions, cdnow, 365, 0.10)
    exact = 0.3 * values.expected_order_value * discounted
    # Rounded to cents (the order value too), and the 4-point quadrature within 1e-4 of the value.
    assert np.all(np.abs(values.clv - exact) <= 0.0051 + 0.3 * 0.0051 * discounted + 1e-4 * exact)
    undiscounted = _values(cdnow, transactions, spend, margin=0.3, annual_discount_rate=0.0)
    rebuilt = 0.3 * values.expected_order_value * values.expected_purchases
    # Each of the three is rounded: the order value to cents, the purchases to 3 decimals, the value to cents.
    bound = 0.0051 + 0.3 * (0.0051 * values.expected_purchases + 0.00051 * values.expected_order_value)
    assert np.all(np.abs(undiscounted.clv - rebuilt) <= bound)
    assert np.all(undiscounted.clv >= values.clv)


def test_predictions_per_customer(cdnow: PurchaseDays, models: tuple[TransactionFit, TransactionFit, SpendFit]) -> None:
    transactions, _, spend = models
    values = _values(cdnow, transactions, spend, margin=0.4)
    one_time = values.repeat_purchases == 0
    assert np.all(values.p_alive[one_time] == 1.0)  # BG/NBD's known weakness
    assert np.all(values.expected_order_value[one_time] == round(spend.model.population_mean(), 2))
    year = _values(cdnow, transactions, spend, margin=0.4, horizon_days=365)
    two_years = _values(cdnow, transactions, spend, margin=0.4, horizon_days=730)
    assert np.all(two_years.expected_purchases >= year.expected_purchases)
    assert two_years.expected_purchases.sum() > year.expected_purchases.sum()


def test_what_people_read_is_rounded(
    cdnow: PurchaseDays, models: tuple[TransactionFit, TransactionFit, SpendFit]
) -> None:
    values = _values(cdnow, models[0], models[2], margin=0.37)
    for array, decimals in [
        (values.p_alive, 4),
        (values.expected_purchases, 3),
        (values.expected_order_value, 2),
        (values.clv, 2),
    ]:
        written = [repr(number) for number in array.tolist()]
        assert all(len(text.split(".")[-1]) <= decimals for text in written), written[:5]
    for segment in segment_values(values, np.where(values.repeat_purchases > 0, "repeat", "once")):
        for number in (segment.clv_total, segment.clv_total_low, segment.clv_mean, segment.expected_purchases):
            assert len(repr(number).split(".")[-1]) <= 2


def test_segment_totals_add_up_and_their_interval_holds_the_estimate(
    cdnow: PurchaseDays, models: tuple[TransactionFit, TransactionFit, SpendFit]
) -> None:
    values = _values(cdnow, models[0], models[2], margin=0.4)
    labels = np.array(["A", "B", "C"], dtype=object)[values.customer % 3]
    segments = segment_values(values, labels)
    assert sum(segment.customers for segment in segments) == 2357
    assert sum(segment.clv_total for segment in segments) == pytest.approx(values.clv.sum(), abs=0.05)
    totals = [segment.clv_total for segment in segments]
    assert totals == sorted(totals, reverse=True)
    for segment in segments:
        assert segment.clv_total_low is not None and segment.clv_total_high is not None
        assert segment.clv_total_low < segment.clv_total < segment.clv_total_high
        assert segment.clv_mean == round(segment.clv_total / segment.customers, 2)


def test_the_laplace_interval_matches_drawing_parameters_from_the_asymptotic_normal(
    cdnow: PurchaseDays, models: tuple[TransactionFit, TransactionFit, SpendFit]
) -> None:
    """The delta-method interval against the Monte-Carlo version of the same Laplace approximation."""
    transactions, _, spend = models
    values = _values(cdnow, transactions, spend, margin=0.4)
    labels = np.where(values.repeat_purchases >= 2, "frequent", "rare")
    by_delta = {segment.segment: segment for segment in segment_values(values, labels, level=0.9)}

    rng = np.random.default_rng(7)
    draws = rng.multivariate_normal(np.zeros(7), values.parameter_covariance, size=120)
    totals: dict[str, list[float]] = {"frequent": [], "rare": []}
    for draw in draws:
        moved_transactions = TransactionFit(
            model=transactions.model.with_parameters(transactions.model.parameters * np.exp(draw[:4])),
            estimate=transactions.estimate,
            customers=transactions.customers,
        )
        moved_spend = SpendFit(
            model=spend.model.with_parameters(spend.model.parameters * np.exp(draw[4:])),
            estimate=spend.estimate,
            customers=spend.customers,
            left_out_no_repeat=0,
            left_out_not_positive=0,
        )
        moved = _values(cdnow, moved_transactions, moved_spend, margin=0.4)
        for name in totals:
            totals[name].append(float(moved.clv[labels == name].sum()))
    for name, drawn in totals.items():
        low, high = np.quantile(drawn, [0.05, 0.95])
        segment = by_delta[name]
        assert segment.clv_total_low is not None and segment.clv_total_high is not None
        assert segment.clv_total_high - segment.clv_total_low == pytest.approx(high - low, rel=0.2)
        assert segment.clv_total_low == pytest.approx(low, rel=0.05)


def test_the_sensitivity_shortcut_is_close_to_the_exact_gradient(
    cdnow: PurchaseDays, models: tuple[TransactionFit, TransactionFit, SpendFit]
) -> None:
    """The discounted purchases' gradient is taken as E(H)'s times their ratio: check it against finite
    differences of the discounted purchases themselves (unrounded)."""
    transactions = models[0]
    calibration = calibrate(cdnow, calibration_end=HOLDOUT_END)
    horizon, rate = 365 / 7, np.log1p(0.1) / WEEKS_PER_YEAR
    base = value._purchases(transactions, calibration, horizon, rate)
    step = 1e-5
    for index in range(4):
        shifted = transactions.model.parameters.copy()
        shifted[index] *= np.exp(step)
        moved = TransactionFit(
            model=transactions.model.with_parameters(shifted), estimate=transactions.estimate, customers=2357
        )
        exact = (value._purchases(moved, calibration, horizon, rate).discounted - base.discounted) / step
        assert base.sensitivity[index].sum() == pytest.approx(exact.sum(), rel=0.01)
        # Per customer off by at most 2 % of the largest sensitivity (where one changes sign, more in relative terms).
        assert np.max(np.abs(base.sensitivity[index] - exact)) <= 0.02 * np.max(np.abs(exact))


@pytest.mark.parametrize(
    ("setting", "message"), [({"horizon_days": 0}, "horizon"), ({"annual_discount_rate": 10.0}, "share")]
)
def test_settings_out_of_range_are_refused(
    cdnow: PurchaseDays,
    models: tuple[TransactionFit, TransactionFit, SpendFit],
    setting: dict[str, float],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        _values(cdnow, models[0], models[2], margin=0.4, **setting)


def test_quadrature_nodes_are_enough() -> None:
    assert value.QUADRATURE_NODES >= 4
