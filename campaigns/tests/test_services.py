"""Simulation with history defaults, scenarios and the export (see conftest for the hand-built history)."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import Customer
from analytics.tests.factories import CustomerFactory, TransactionLineFactory
from analytics.warehouse import warehouse_rebuild
from campaigns import services
from campaigns.models import Scenario, TargetExport
from campaigns.tests.conftest import make_run
from retail_platform.errors import ApplicationError
from segmentation.models import SegmentationRun
from segmentation.rfm import SEGMENTS


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def test_simulation_defaults_come_from_the_segments_history(history: SegmentationRun) -> None:
    result = services.campaign_simulate(segments=["VIP"], discount=0.1, contact_cost=1.0, fixed_cost=10.0)
    assert result.customers_targeted == 4
    assert result.avg_order_value == pytest.approx(80.0)
    assert result.assumptions.baseline_rate == 0.5
    assert result.assumptions.margin == pytest.approx(0.4)
    assert result.assumptions.response_rate == pytest.approx(0.55)
    assert result.segmentation_run_id == history.pk
    sources = result.assumption_sources
    assert sources["discount"] == "your input"
    assert "2 of the segment's 4 customers bought in the 30 days 2024-06-01 to 2024-06-30" in sources["baseline_rate"]
    assert "2 purchase lines that carry cost" in sources["margin"]
    assert "5 purchases" in sources["avg_order_value"]


def test_simulation_matches_the_closed_form_for_hand_checked_inputs(history: SegmentationRun) -> None:
    # N=4, A=80, r=0.75, b=0.5 and m=0.4 (history), d=0.1, contact 1, fixed 10:
    # 4*0.75*80*0.3 - 4*0.5*80*0.4 - 4 - 10 = 72 - 64 - 14 = -6; discount cost 24; cost 38.
    result = services.campaign_simulate(
        segments=["VIP"], discount=0.1, response_rate=0.75, contact_cost=1.0, fixed_cost=10.0
    )
    assert result.incremental_profit == pytest.approx(-6.0)
    assert result.discount_cost == pytest.approx(24.0)
    assert result.total_cost == pytest.approx(38.0)
    assert result.roi == pytest.approx(-6 / 38)
    assert result.incremental_revenue == pytest.approx(4 * 0.75 * 80 * 0.9 - 4 * 0.5 * 80)
    assert result.break_even_response_rate == pytest.approx(78 / 96)


def test_different_segments_give_different_results(history: SegmentationRun) -> None:
    vip = services.campaign_simulate(segments=["VIP"], discount=0.1, response_rate=0.3)
    dormant = services.campaign_simulate(segments=["Dormant"], discount=0.1, response_rate=0.3)
    assert (dormant.customers_targeted, dormant.avg_order_value) == (2, pytest.approx(30.0))
    assert dormant.assumptions.baseline_rate == 0.0
    assert dormant.assumptions.margin == 0.40
    assert "no cost data" in dormant.assumption_sources["margin"]
    assert vip.incremental_profit != pytest.approx(dormant.incremental_profit)


def test_rfm_names_and_overlapping_segments_count_each_customer_once(history: SegmentationRun) -> None:
    by_rfm = services.campaign_simulate(segments=["Champions"])
    both = services.campaign_simulate(segments=["VIP", "Champions", "Hibernating"])
    assert by_rfm.customers_targeted == 4
    assert both.customers_targeted == 6
    assert both.avg_order_value == pytest.approx((400 + 60) / 7)


def test_only_the_active_run_is_used(history: SegmentationRun) -> None:
    history.is_active = False
    history.save()
    other = CustomerFactory(external_id="X1")
    make_run({other: ("Regulars", "Promising")})
    result = services.campaign_simulate(segments=["Regulars"])
    assert result.customers_targeted == 1
    with pytest.raises(ApplicationError) as caught:
        services.campaign_simulate(segments=["VIP"])
    assert caught.value.extra["valid_segments"] == ["Regulars", *SEGMENTS]


@pytest.mark.parametrize(
    ("params", "field_name"),
    [
        ({"discount": 1.0}, "discount"),
        ({"discount": -0.2}, "discount"),
        ({"response_rate": 1.5}, "response_rate"),
        ({"baseline_rate": -0.1}, "baseline_rate"),
        ({"contact_cost": -1.0}, "contact_cost"),
        ({"fixed_cost": -1.0}, "fixed_cost"),
        ({"margin": 2.0}, "margin"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"simulations": 0}, "simulations"),
    ],
)
def test_invalid_inputs_raise_with_the_reason_and_the_valid_segments(
    history: SegmentationRun, params: dict[str, float], field_name: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.campaign_simulate(segments=["VIP"], **params)
    assert caught.value.extra["field"] == field_name
    assert field_name in caught.value.message
    assert caught.value.extra["valid_segments"] == ["VIP", "Dormant", *SEGMENTS]


def test_unknown_segment_is_rejected_with_the_valid_segments(history: SegmentationRun) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.campaign_simulate(segments=["VIP", "Nobody"])
    assert "Nobody" in caught.value.message
    assert caught.value.extra["valid_segments"] == ["VIP", "Dormant", *SEGMENTS]


def test_without_a_segmentation_run_the_simulation_says_so(db: None) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.campaign_simulate(segments=["VIP"])
    assert "no customer segmentation" in caught.value.message
    assert caught.value.extra["valid_segments"] == []


@pytest.mark.parametrize(("horizon", "baseline"), [(10, 0.0), (11, 0.25), (16, 0.5), (141, 0.5), (142, 0.75)])
def test_baseline_counts_buyers_in_the_horizon_ending_at_the_as_of_date(
    history: SegmentationRun, horizon: int, baseline: float
) -> None:
    # Days from the last purchase to 2024-07-01: V2 11 (06-20), V1 16 (06-15), V3 142 (02-10), V4 178.
    result = services.campaign_simulate(segments=["VIP"], horizon_days=horizon)
    assert result.assumptions.baseline_rate == baseline
    assert result.assumptions.horizon_days == horizon


def test_history_is_cached_per_run_and_a_new_run_brings_the_new_lines(
    history: SegmentationRun, django_assert_num_queries
) -> None:
    services.campaign_simulate(segments=["VIP"], horizon_days=200)
    # The run, its segment names and the data version the model's baseline is cached under: the history
    # (kept per run, across imports) and that baseline (none here: no customer-value model) are cached.
    with django_assert_num_queries(3):
        again = services.campaign_simulate(segments=["VIP"], discount=0.2, horizon_days=200)
    assert again.assumptions.baseline_rate == 1.0
    TransactionLineFactory(customer=Customer.objects.get(external_id="V3"), date=datetime.date(2024, 6, 30))
    warehouse_rebuild()  # an import; the refit that follows it makes a new run
    history.is_active = False
    history.save()
    make_run(dict.fromkeys(Customer.objects.filter(external_id__startswith="V"), ("VIP", "Champions")))
    with CaptureQueriesContext(connection) as queries:  # ... and the new run's saved history
        fresh = services.campaign_simulate(segments=["VIP"])
    assert fresh.assumptions.baseline_rate == 0.75
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert "segmentation_segmentcell" in read
    assert "analytics_transactionline" not in read


def test_simulation_payload_rounds_money_to_cents_and_lists_sources(history: SegmentationRun) -> None:
    result = services.campaign_simulate(
        segments=["VIP"], discount=0.1, response_rate=0.75, contact_cost=1.0, fixed_cost=10.0
    )
    payload = services.simulation_payload(result)
    assert payload["incremental_profit"] == "-6.00"
    assert payload["avg_order_value"] == "80.00"
    assert payload["total_cost"] == "38.00"
    assert payload["assumptions"]["contact_cost"] == {"value": "1.00", "source": "your input"}
    assert payload["assumptions"]["margin"]["value"] == pytest.approx(0.4)
    assert payload["segment"] == ["VIP"]


@pytest.mark.parametrize(("value", "text"), [(1234.5, "1234.50"), (-0.001, "0.00"), (2.675, "2.68"), (-6.0, "-6.00")])
def test_money_is_a_decimal_string_to_cents(value: float, text: str) -> None:
    assert services.money(value) == text


def test_scenario_save_records_inputs_results_and_the_run(history: SegmentationRun) -> None:
    user = User.objects.create_user("strategist")
    scenario = services.scenario_save(
        name=" Summer VIP ", user=user, params={"segments": ["VIP"], "discount": 0.1, "response_rate": 0.75}
    )
    scenario.refresh_from_db()
    assert scenario.name == "Summer VIP"
    assert scenario.created_by == user
    assert scenario.segmentation_run_id == history.pk
    assert scenario.inputs == {"segments": ["VIP"], "discount": 0.1, "response_rate": 0.75}
    expected = services.simulation_payload(
        services.campaign_simulate(segments=["VIP"], discount=0.1, response_rate=0.75)
    )
    assert scenario.results == expected


def test_scenario_save_rejects_unknown_parameters_and_empty_names(history: SegmentationRun) -> None:
    with pytest.raises(ApplicationError):
        services.scenario_save(name="x", user=None, params={"segments": ["VIP"], "budget": 5})
    with pytest.raises(ApplicationError):
        services.scenario_save(name="  ", user=None, params={"segments": ["VIP"]})
    assert not Scenario.objects.exists()


def test_export_draws_a_reproducible_control_group_and_records_the_seed(history: SegmentationRun) -> None:
    export, rows = services.target_export_create(segments=["VIP", "Dormant"], control_share=0.5, seed=7, user=None)
    first = list(rows)
    assert [customer for customer, _ in first] == ["D1", "D2", "V1", "V2", "V3", "V4"]
    assert sum(group == "control" for _, group in first) == 3
    export.refresh_from_db()
    assert (export.seed, export.customers, export.control_customers) == (7, 6, 3)
    assert export.segmentation_run_id == history.pk
    _, again = services.target_export_create(segments=["VIP", "Dormant"], control_share=0.5, seed=7, user=None)
    assert list(again) == first
    # The control draw is the documented one: a seeded permutation of the customers in id order.
    held = set(np.random.default_rng(7).permutation(6)[:3])
    assert [group for _, group in first] == ["control" if i in held else "target" for i in range(6)]


def test_export_without_a_seed_draws_and_records_one(history: SegmentationRun) -> None:
    export, rows = services.target_export_create(segments=["VIP"], user=None)
    assert len(list(rows)) == 4
    assert 0 <= export.seed < 2**31
    assert export.control_customers == round(4 * services.DEFAULT_CONTROL_SHARE)
    assert TargetExport.objects.count() == 1


@pytest.mark.parametrize("share", [-0.1, 1.0, math.inf])
def test_export_rejects_a_control_share_outside_0_to_1(history: SegmentationRun, share: float) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.target_export_create(segments=["VIP"], control_share=share, user=None)
    assert caught.value.extra["field"] == "control_share"


def test_discount_curve_uses_the_simulated_segment_and_assumptions(history: SegmentationRun) -> None:
    result = services.campaign_simulate(segments=["VIP"], discount=0.1, response_rate=0.75)
    curve = services.campaign_discount_curve(result=result)
    assert curve.incremental_profits[10] == pytest.approx(result.incremental_profit)
    assert curve.discounts[-1] == 0.5


@pytest.mark.parametrize("seed", [-1, 2**63])
def test_export_rejects_a_seed_the_record_cannot_hold(history: SegmentationRun, seed: int) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.target_export_create(segments=["VIP"], seed=seed, user=None)
    assert caught.value.extra["field"] == "seed"


def test_the_numbers_people_read_are_rounded_not_float_noise(history: SegmentationRun) -> None:
    """6 customers x 10 % is 0.6000000000000001 in floats; the payload says 0.6."""
    result = services.campaign_simulate(segments=["VIP", "Dormant"], discount=0.1, response_rate=0.1, contact_cost=0.7)
    assert result.expected_orders != 0.6  # the float the model computes

    payload = services.simulation_payload(result)

    assert payload["expected_orders"] == 0.6
    for name in ("roi", "break_even_response_rate", "probability_of_loss"):
        assert payload[name] == round(getattr(result, name), 4), name
    for name in ("roi_p5", "roi_p50", "roi_p95"):
        assert payload["details"][name] == round(getattr(result, name), 4), name
    assert payload["assumptions"]["baseline_rate"]["value"] == round(result.assumptions.baseline_rate, 4)
    assert all(len(repr(value).split(".")[-1]) <= 4 for value in _floats(payload)), list(_floats(payload))


def _floats(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _floats(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _floats(inner)
