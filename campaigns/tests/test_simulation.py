"""The pure campaign model, on hand-checked inputs (no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from campaigns import simulation
from campaigns.simulation import (
    CampaignAssumptions,
    InvalidAssumption,
    SegmentStats,
    closed_form,
    control_group,
    monte_carlo,
    profit_by_discount,
    simulate_campaign,
    two_proportion_sample_size,
)

# N=1000, A=50, r=0.10, b=0.04, d=0.20, m=0.40, contact 1, fixed 500:
#   campaign profit 1000·0.1·50·0.2 = 1000; baseline 1000·0.04·50·0.4 = 800; contact 1000; fixed 500
#   incremental profit = 1000 - 800 - 1000 - 500 = -1300; discount cost 1000; cost 2500; ROI -0.52
#   incremental revenue = 1000·0.1·50·0.8 - 1000·0.04·50 = 2000; break-even (800+1000+500)/10000 = 0.23
LOSING = CampaignAssumptions(
    discount=0.20, response_rate=0.10, baseline_rate=0.04, contact_cost=1.0, fixed_cost=500.0, margin=0.40
)
# N=2000, A=80, r=0.15, b=0.05, d=0.10, m=0.50, contact 0.5, fixed 1000:
#   9600 - 4000 - 1000 - 1000 = 3600; discount cost 2400; cost 4400; ROI 9/11
#   revenue 2000·0.15·80·0.9 - 2000·0.05·80 = 13600; break-even 6000/64000 = 0.09375
WINNING = CampaignAssumptions(
    discount=0.10, response_rate=0.15, baseline_rate=0.05, contact_cost=0.5, fixed_cost=1000.0, margin=0.50
)


@pytest.mark.parametrize(
    ("customers", "aov", "assumptions", "expected"),
    [
        (
            1000,
            50.0,
            LOSING,
            {
                "expected_orders": 100.0,
                "incremental_revenue": 2000.0,
                "discount_cost": 1000.0,
                "total_cost": 2500.0,
                "incremental_profit": -1300.0,
                "roi": -0.52,
                "break_even_response_rate": 0.23,
            },
        ),
        (
            2000,
            80.0,
            WINNING,
            {
                "expected_orders": 300.0,
                "incremental_revenue": 13600.0,
                "discount_cost": 2400.0,
                "total_cost": 4400.0,
                "incremental_profit": 3600.0,
                "roi": 9 / 11,
                "break_even_response_rate": 0.09375,
            },
        ),
    ],
)
def test_closed_form_matches_hand_computed_values(
    customers: int, aov: float, assumptions: CampaignAssumptions, expected: dict[str, float]
) -> None:
    result = closed_form(customers=customers, avg_order_value=aov, assumptions=assumptions)
    for name, value in expected.items():
        assert getattr(result, name) == pytest.approx(value, abs=1e-9), name


def test_profit_is_zero_at_the_break_even_response_rate() -> None:
    rate = closed_form(customers=2000, avg_order_value=80.0, assumptions=WINNING).break_even_response_rate
    assert rate is not None
    at_break_even = CampaignAssumptions(**{**WINNING.__dict__, "response_rate": rate})
    result = closed_form(customers=2000, avg_order_value=80.0, assumptions=at_break_even)
    assert result.incremental_profit == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("discount", [0.40, 0.45, 0.60])
def test_a_discount_at_or_above_the_margin_is_a_loss_with_no_break_even(discount: float) -> None:
    assumptions = CampaignAssumptions(discount=discount, response_rate=0.30, baseline_rate=0.0, margin=0.40)
    stats = SegmentStats(customers=5000, order_values=np.array([40.0, 60.0, 80.0]))
    result = simulate_campaign(stats, assumptions)
    # N·r·A·(m-d) with N=5000, r=0.3, A=60.
    assert result.incremental_profit == pytest.approx(5000 * 0.3 * 60 * (0.40 - discount))
    assert result.incremental_profit <= 0
    assert result.roi is not None and result.roi <= 0
    assert result.break_even_response_rate is None
    assert "margin" in result.break_even_note
    assert result.margin_wiped_out
    if discount > 0.40:
        assert result.probability_of_loss == 1.0
        assert result.profit_p95 < 0


def test_break_even_above_100_percent_is_unreachable() -> None:
    assumptions = CampaignAssumptions(discount=0.1, response_rate=0.2, baseline_rate=0.1, fixed_cost=1e9, margin=0.4)
    result = closed_form(customers=100, avg_order_value=50.0, assumptions=assumptions)
    assert result.break_even_response_rate is None
    assert "above 100%" in result.break_even_note


def test_roi_is_undefined_when_the_campaign_costs_nothing() -> None:
    assumptions = CampaignAssumptions(discount=0.0, response_rate=0.2, baseline_rate=0.1, margin=0.4)
    result = closed_form(customers=100, avg_order_value=50.0, assumptions=assumptions)
    assert result.total_cost == 0
    assert result.roi is None
    assert result.incremental_profit == pytest.approx(100 * 0.1 * 50 * 0.4)


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("discount", 1.0),
        ("discount", -0.1),
        ("response_rate", 1.2),
        ("baseline_rate", -0.01),
        ("margin", 1.5),
        ("contact_cost", -1.0),
        ("fixed_cost", -5.0),
        ("fixed_cost", 1e300),
        ("contact_cost", 1e7),
        ("horizon_days", 0),
        ("simulations", 0),
        ("discount", math.nan),
        ("seed", -1),
        ("seed", 2**64),
    ],
)
def test_assumptions_outside_their_domain_are_rejected_with_the_field_named(field_name: str, value: float) -> None:
    params = {"discount": 0.1, "response_rate": 0.1, "baseline_rate": 0.05, field_name: value}
    with pytest.raises(InvalidAssumption) as caught:
        CampaignAssumptions(**params)
    assert caught.value.field == field_name


def _textbook_sample_size(p1: float, p2: float) -> int:
    p_bar = (p1 + p2) / 2
    z_a, z_b = norm.ppf(0.975), norm.ppf(0.80)
    n = (z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
    return math.ceil(n / (p1 - p2) ** 2)


@pytest.mark.parametrize(("p1", "p2"), [(0.10, 0.05), (0.05, 0.10), (0.30, 0.25), (0.02, 0.01), (0.5, 0.45)])
def test_control_group_size_matches_the_two_proportion_formula(p1: float, p2: float) -> None:
    assert two_proportion_sample_size(p1, p2) == _textbook_sample_size(p1, p2)


def test_control_group_of_a_known_case_is_435_per_group() -> None:
    # Detecting 5% against 10% at 80% power, 5% two-sided: 435 per group (Fleiss, no correction).
    assumptions = CampaignAssumptions(
        discount=0.1, response_rate=0.10, baseline_rate=0.05, contact_cost=1.0, margin=0.4
    )
    group = control_group(customers=10_000, avg_order_value=50.0, assumptions=assumptions)
    assert group.size == group.required == 435
    assert not group.capped
    # Forgone per customer: 0.1·50·0.3 - 0.05·50·0.4 - 1 = 1.5 - 1 - 1 = -0.5.
    assert group.holdout_cost == pytest.approx(435 * -0.5)


def test_control_group_is_capped_at_half_the_segment_and_flagged() -> None:
    assumptions = CampaignAssumptions(discount=0.1, response_rate=0.10, baseline_rate=0.05)
    group = control_group(customers=500, avg_order_value=50.0, assumptions=assumptions)
    assert group.required == 435
    assert group.size == 250
    assert group.capped
    assert "underpowered" in group.note


def test_control_group_without_uplift_has_no_size() -> None:
    assumptions = CampaignAssumptions(discount=0.1, response_rate=0.05, baseline_rate=0.05)
    group = control_group(customers=500, avg_order_value=50.0, assumptions=assumptions)
    assert group.size is None
    assert group.holdout_cost == 0


def _large_segment() -> SegmentStats:
    values = np.random.default_rng(42).lognormal(mean=4.0, sigma=0.8, size=100_000)
    return SegmentStats(customers=50_000, order_values=values)


@pytest.mark.parametrize(("rate", "baseline"), [(0.10, 0.05), (0.04, 0.06)])
def test_monte_carlo_median_is_within_2_percent_of_the_closed_form_on_a_large_segment(
    rate: float, baseline: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bootstrap itself, whatever the draw budget (10 M draws for the first case).
    monkeypatch.setattr(simulation, "EXACT_DRAWS_LIMIT", 10**9)
    stats = _large_segment()
    assumptions = CampaignAssumptions(
        discount=0.15,
        response_rate=rate,
        baseline_rate=baseline,
        contact_cost=0.2,
        fixed_cost=2000.0,
        margin=0.45,
        seed=7,
    )
    result = simulate_campaign(stats, assumptions)
    assert result.monte_carlo_method == "bootstrap"
    assert abs(result.incremental_profit) > 10_000  # far from zero, so 2% is a real bound
    assert result.profit_p50 == pytest.approx(result.incremental_profit, rel=0.02)
    assert result.profit_p5 < result.profit_p50 < result.profit_p95
    assert result.simulated_profits.shape == (2000,)


def test_monte_carlo_is_deterministic_with_constant_order_values_and_certain_response() -> None:
    # r = 1: every one of the 300 customers buys a 10.00 order; b = 0.5 of them would anyway.
    stats = SegmentStats(customers=300, order_values=np.array([10.0]))
    assumptions = CampaignAssumptions(discount=0.2, response_rate=1.0, baseline_rate=0.0, fixed_cost=100.0, margin=0.5)
    result = monte_carlo(stats, assumptions)
    expected = 300 * 10.0 * (0.5 - 0.2) - 100.0
    assert result.profit_p5 == result.profit_p95 == pytest.approx(expected)
    assert result.probability_of_loss == 0.0
    assert result.roi_p50 == pytest.approx(expected / (100.0 + 0.2 * 3000.0))


def test_monte_carlo_is_reproducible_with_a_seed_and_varies_without_it() -> None:
    stats = SegmentStats(customers=2000, order_values=np.array([5.0, 20.0, 75.0]))
    first = monte_carlo(stats, WINNING)
    again = monte_carlo(stats, WINNING)
    other = monte_carlo(stats, CampaignAssumptions(**{**WINNING.__dict__, "seed": 99}))
    assert np.array_equal(first.profits, again.profits)
    assert not np.array_equal(first.profits, other.profits)


def test_bootstrap_sums_match_a_per_run_reference_whatever_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0])
    rng = np.random.default_rng(3)
    outer = rng.binomial(40, 0.5, size=50)
    outer[[0, 7, 49]] = 0  # empty runs, including the last
    inner = rng.binomial(outer, 0.3)
    inner[5] = outer[5]  # a run whose second piece is empty

    # Reference: the same draws, summed run by run.
    reference_rng = np.random.default_rng(11)
    drawn = values[reference_rng.integers(0, values.size, size=int(outer.sum()), dtype=np.int32)]
    expected_inner, expected_rest, start = [], [], 0
    for k, j in zip(outer, inner, strict=True):
        expected_inner.append(drawn[start : start + j].sum())
        expected_rest.append(drawn[start + j : start + k].sum())
        start += k

    for chunk in (7, 100, 10**9):
        monkeypatch.setattr(simulation, "_CHUNK_DRAWS", chunk)
        got_inner, got_rest = simulation._bootstrap_sums(np.random.default_rng(11), values, inner, outer)
        assert np.array_equal(got_inner, expected_inner), chunk
        assert np.array_equal(got_rest, expected_rest), chunk


def test_normal_approximation_takes_over_beyond_the_draw_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulation, "EXACT_DRAWS_LIMIT", 1000)
    stats = _large_segment()
    assumptions = CampaignAssumptions(discount=0.15, response_rate=0.10, baseline_rate=0.05, margin=0.45, seed=1)
    result = simulate_campaign(stats, assumptions)
    assert result.monte_carlo_method == "normal approximation"
    assert result.profit_p50 == pytest.approx(result.incremental_profit, rel=0.02)


def test_over_the_draw_budget_large_sums_are_approximated_within_the_monte_carlo_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = np.random.default_rng(42).lognormal(mean=4.0, sigma=0.8, size=100_000)  # skewness 4.4
    stats = SegmentStats(customers=5_000, order_values=values)
    # Everyone buys with the offer, half would anyway: two sums of ~2,500 orders per run, 100 M
    # draws over 20,000 runs (many runs, so that each estimate's own error is small: ~0.015 sd).
    assumptions = CampaignAssumptions(
        discount=0.15, response_rate=1.0, baseline_rate=0.5, margin=0.45, simulations=20_000, seed=0
    )
    approximated = monte_carlo(stats, assumptions)
    monkeypatch.setattr(simulation, "EXACT_DRAWS_LIMIT", 10**9)
    bootstrapped = monte_carlo(stats, assumptions)

    assert approximated.method == "normal approximation" and bootstrapped.method == "bootstrap"
    spread = bootstrapped.profits.std()
    assert approximated.profits.std() == pytest.approx(spread, rel=0.02)
    for name in ("profit_p5", "profit_p50", "profit_p95"):
        assert abs(getattr(approximated, name) - getattr(bootstrapped, name)) < 0.05 * spread, name


def test_over_the_draw_budget_small_sums_stay_bootstrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulation, "EXACT_DRAWS_LIMIT", 1000)
    values = np.array([1.0, 1000.0])
    t = simulation.NORMAL_MIN_DRAWS
    inner = np.array([0, 5, 2 * t, t - 1, t])
    outer = np.array([10, 2 * t + 5, 2 * t + 100, 4 * t, t])
    method, inner_sum, rest_sum = simulation._sums_over_budget(np.random.default_rng(0), values, inner, outer)

    assert method == "bootstrap and normal approximation"

    def bootstrapped(total: float, draws: int) -> bool:
        # A bootstrap sum of draws from {1, 1000} is draws + 999 x (the number of 1000s drawn).
        return total == round(total) and (round(total) - draws) % 999 == 0 and draws <= total <= 1000 * draws

    rest = outer - inner
    for run in range(inner.size):
        for total, draws in ((inner_sum[run], inner[run]), (rest_sum[run], rest[run])):
            if draws < simulation.NORMAL_MIN_DRAWS:
                assert bootstrapped(total, draws), (run, draws, total)
            else:
                assert not bootstrapped(total, draws), (run, draws, total)
                assert total == pytest.approx(draws * 500.5, rel=0.1)
    assert inner_sum[0] == 0.0


def test_a_segment_without_orders_simulates_to_the_fixed_costs() -> None:
    stats = SegmentStats(customers=10, order_values=np.array([]))
    assumptions = CampaignAssumptions(
        discount=0.1, response_rate=0.2, baseline_rate=0.1, contact_cost=2.0, fixed_cost=5.0
    )
    result = simulate_campaign(stats, assumptions)
    assert result.avg_order_value == 0
    assert result.incremental_profit == -25.0
    assert result.profit_p50 == -25.0
    assert result.break_even_response_rate is None


def test_profit_by_discount_scales_the_uplift_and_finds_the_best_discount() -> None:
    assumptions = CampaignAssumptions(discount=0.16, response_rate=0.14, baseline_rate=0.06, margin=0.5)
    curve = profit_by_discount(customers=1000, avg_order_value=100.0, assumptions=assumptions)
    assert len(curve.discounts) == 51
    assert curve.discounts[0] == 0.0 and curve.discounts[-1] == 0.5
    # At d = 0.04: r = 0.06 + 0.08·sqrt(0.04/0.16) = 0.10; profit = 1000·0.10·100·0.46 - 1000·0.06·100·0.5 = 1600.
    assert curve.response_rates[4] == pytest.approx(0.10)
    assert curve.incremental_profits[4] == pytest.approx(1600.0)
    # At the chosen discount the curve is the closed form.
    at_chosen = closed_form(customers=1000, avg_order_value=100.0, assumptions=assumptions).incremental_profit
    assert curve.incremental_profits[16] == pytest.approx(at_chosen)
    assert curve.best_profit == max(curve.incremental_profits)
    assert curve.best_discount == curve.discounts[curve.incremental_profits.index(curve.best_profit)]
    assert 0 < curve.best_discount < 0.5


def test_profit_by_discount_without_elasticity_prefers_no_discount() -> None:
    assumptions = CampaignAssumptions(discount=0.2, response_rate=0.14, baseline_rate=0.06, margin=0.5)
    curve = profit_by_discount(customers=1000, avg_order_value=100.0, assumptions=assumptions, elasticity=0.0)
    assert set(curve.response_rates) == {0.14}
    assert curve.best_discount == 0.0
