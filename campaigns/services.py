"""Campaign simulation with defaults from the segment's history, saved scenarios, and the
targeted-customer export with its control group."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from campaigns import selectors
from campaigns.models import Scenario, TargetExport
from campaigns.simulation import (
    DEFAULT_MARGIN,
    DEFAULT_SIMULATIONS,
    MAX_SEED,
    CampaignAssumptions,
    DiscountCurve,
    InvalidAssumption,
    SimulationResult,
    profit_by_discount,
    simulate_campaign,
)
from retail_platform.errors import ApplicationError
from segmentation import selectors as segmentation_selectors

DEFAULT_DISCOUNT = 0.10
# With no history of offers to learn from, the default response is the baseline plus this uplift.
DEFAULT_UPLIFT = 0.05
DEFAULT_CONTACT_COST = 0.0
DEFAULT_FIXED_COST = 0.0
DEFAULT_HORIZON_DAYS = 30
DEFAULT_SEED = 0
TARGET_ORDERS = ("customer_id", "clv", "value_at_risk")
DEFAULT_CONTROL_SHARE = 0.10
MAX_HORIZON_DAYS = 3650

# The parameters a simulation accepts, in the order the page and the API list them.
PARAMETERS = (
    "discount",
    "response_rate",
    "baseline_rate",
    "contact_cost",
    "fixed_cost",
    "margin",
    "horizon_days",
    "simulations",
    "seed",
)


def _invalid(message: str, *, field: str, valid_segments: list[str]) -> ApplicationError:
    return ApplicationError(message, {"field": field, "valid_segments": valid_segments})


def _resolve_segments(segments: list[str]) -> tuple[selectors.ActiveSegmentation, tuple[str, ...]]:
    active = selectors.active_segmentation_get()
    valid = list(active.segment_names) if active else []
    if active is None:
        raise ApplicationError(
            "There is no customer segmentation yet: import transactions (a refit follows) or ask staff to refit.",
            {"field": "segment", "valid_segments": valid},
        )
    names = tuple(dict.fromkeys(name.strip() for name in segments if name and name.strip()))
    if not names:
        raise _invalid("Choose at least one segment.", field="segment", valid_segments=valid)
    unknown = [name for name in names if name not in active.segment_names]
    if unknown:
        raise _invalid(
            f"Unknown segment: {', '.join(unknown)}. Choose from the segments of the active segmentation run.",
            field="segment",
            valid_segments=valid,
        )
    return active, names


def campaign_simulate(
    *,
    segments: list[str],
    discount: float | None = None,
    response_rate: float | None = None,
    baseline_rate: float | None = None,
    contact_cost: float | None = None,
    fixed_cost: float | None = None,
    margin: float | None = None,
    horizon_days: int | None = None,
    simulations: int | None = None,
    seed: int | None = None,
) -> SimulationResult:
    """Simulate a campaign on the chosen segments (K-Means or RFM names of the active segmentation
    run). Omitted inputs take their defaults: the baseline rate, the order values and (when the data
    carries cost) the margin come from the segment's history; `assumption_sources` says where each
    value came from. Raises ApplicationError (with the valid segments) for invalid input."""
    active, names = _resolve_segments(segments)
    valid = list(active.segment_names)
    horizon = DEFAULT_HORIZON_DAYS if horizon_days is None else horizon_days
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise _invalid(
            f"horizon_days must be between 1 and {MAX_HORIZON_DAYS}.", field="horizon_days", valid_segments=valid
        )
    given: dict[str, Any] = {
        "discount": discount,
        "response_rate": response_rate,
        "baseline_rate": baseline_rate,
        "contact_cost": contact_cost,
        "fixed_cost": fixed_cost,
        "margin": margin,
        "simulations": simulations,
        "seed": seed,
    }
    # Check what was given before reading history, so a bad input answers at once.
    probe = {"discount": 0.0, "response_rate": 0.0, "baseline_rate": 0.0}
    try:
        CampaignAssumptions(**{**probe, **{k: v for k, v in given.items() if v is not None}})
    except InvalidAssumption as error:
        raise _invalid(error.message, field=error.field, valid_segments=valid) from error

    history = selectors.segment_history_get(active=active, segments=names)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def take(name: str, value: Any, default: Any, default_source: str) -> None:
        values[name] = default if value is None else value
        sources[name] = default_source if value is None else "your input"

    take("discount", discount, DEFAULT_DISCOUNT, "default (10%)")
    model_rate = (
        segmentation_selectors.buy_probability_get(run_id=active.run_id, segments=names, horizon_days=horizon)
        if baseline_rate is None
        else None
    )
    if model_rate is not None:
        take(
            "baseline_rate",
            baseline_rate,
            model_rate,
            f"customer-value model fitted with segmentation run #{active.run_id}: the chosen customers' mean "
            f"probability of buying at least once in the next {horizon} days without the offer",
        )
    else:
        take("baseline_rate", baseline_rate, history.baseline_rate(horizon), history.baseline_source(horizon))
    take(
        "response_rate",
        response_rate,
        min(1.0, values["baseline_rate"] + DEFAULT_UPLIFT),
        "default: the baseline rate plus 5 points (no offer history to learn from; set your own)",
    )
    take("contact_cost", contact_cost, DEFAULT_CONTACT_COST, "default (0.00 per customer)")
    take("fixed_cost", fixed_cost, DEFAULT_FIXED_COST, "default (0.00)")
    if history.margin_from_cost is not None:
        take("margin", margin, history.margin_from_cost, history.margin_source)
    else:
        take("margin", margin, DEFAULT_MARGIN, f"default ({DEFAULT_MARGIN:.0%}): {history.margin_source}")
    take("horizon_days", horizon_days, DEFAULT_HORIZON_DAYS, f"default ({DEFAULT_HORIZON_DAYS} days)")
    take("simulations", simulations, DEFAULT_SIMULATIONS, f"default ({DEFAULT_SIMULATIONS:,} runs)")
    take("seed", seed, DEFAULT_SEED, "default (0): the same inputs give the same simulation")
    sources["avg_order_value"] = history.order_value_source
    sources["customers_targeted"] = history.customers_source
    try:
        assumptions = CampaignAssumptions(**values)
    except InvalidAssumption as error:
        raise _invalid(error.message, field=error.field, valid_segments=valid) from error

    result = simulate_campaign(history.stats, assumptions)
    return dataclasses.replace(result, segments=names, segmentation_run_id=active.run_id, assumption_sources=sources)


def campaign_discount_curve(*, result: SimulationResult, max_discount: float = 0.50) -> DiscountCurve:
    """Profit against discount (0 to 50%) for a simulated campaign: same segment, same assumptions."""
    return profit_by_discount(
        customers=result.customers_targeted,
        avg_order_value=result.avg_order_value,
        assumptions=result.assumptions,
        max_discount=max_discount,
    )


def money(value: float) -> str:
    """A float amount as a decimal string rounded to cents ("1234.50")."""
    amount = Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return str(amount + Decimal("0.00"))  # no "-0.00"


MONEY_ASSUMPTIONS = ("contact_cost", "fixed_cost")
# Decimal places of the numbers people read (the model computes in floats: N·r is 456.59999999999997
# for 1,522 customers at 30 %): orders to hundredths, rates, shares and ROI to 0.01 %.
ORDERS_PLACES = 2
RATE_PLACES = 4
NUMBER_PLACES = {
    "expected_orders": ORDERS_PLACES,
    "roi": RATE_PLACES,
    "break_even_response_rate": RATE_PLACES,
    "probability_of_loss": RATE_PLACES,
    "roi_p5": RATE_PLACES,
    "roi_p50": RATE_PLACES,
    "roi_p95": RATE_PLACES,
    "discount": RATE_PLACES,
    "response_rate": RATE_PLACES,
    "baseline_rate": RATE_PLACES,
    "margin": RATE_PLACES,
}


def figure(name: str, value: Any) -> Any:
    """A computed number as people read it, rounded to its NUMBER_PLACES (others as they are)."""
    if name not in NUMBER_PLACES or value is None or isinstance(value, int):
        return value
    return round(float(value), NUMBER_PLACES[name]) + 0.0  # no -0.0


def simulation_payload(result: SimulationResult) -> dict[str, Any]:
    """The simulation as the API returns it and a scenario stores it: money as decimal strings."""
    a = result.assumptions
    assumptions: dict[str, dict[str, Any]] = {}
    for name in PARAMETERS:
        value = getattr(a, name)
        assumptions[name] = {
            "value": money(value) if name in MONEY_ASSUMPTIONS else figure(name, value),
            "source": result.assumption_sources.get(name, ""),
        }
    group = result.control_group
    return {
        "segment": list(result.segments),
        "customers_targeted": result.customers_targeted,
        "avg_order_value": money(result.avg_order_value),
        "expected_orders": figure("expected_orders", result.expected_orders),
        "incremental_revenue": money(result.incremental_revenue),
        "discount_cost": money(result.discount_cost),
        "total_cost": money(result.total_cost),
        "incremental_profit": money(result.incremental_profit),
        "roi": figure("roi", result.roi),
        "break_even_response_rate": figure("break_even_response_rate", result.break_even_response_rate),
        "profit_p5": money(result.profit_p5),
        "profit_p50": money(result.profit_p50),
        "profit_p95": money(result.profit_p95),
        "probability_of_loss": figure("probability_of_loss", result.probability_of_loss),
        "control_group_size": group.size,
        "assumptions": assumptions,
        "details": {
            "segmentation_run": result.segmentation_run_id,
            "avg_order_value_source": result.assumption_sources.get("avg_order_value", ""),
            "customers_targeted_source": result.assumption_sources.get("customers_targeted", ""),
            "break_even_note": result.break_even_note,
            "margin_wiped_out": result.margin_wiped_out,
            "offer_lowers_sales": result.offer_lowers_sales,
            "roi_p5": figure("roi_p5", result.roi_p5),
            "roi_p50": figure("roi_p50", result.roi_p50),
            "roi_p95": figure("roi_p95", result.roi_p95),
            "monte_carlo_method": result.monte_carlo_method,
            "control_group_required": group.required,
            "control_group_capped": group.capped,
            "control_group_holdout_cost": money(group.holdout_cost),
            "control_group_note": group.note,
        },
    }


@transaction.atomic
def scenario_save(*, name: str, user: User | AnonymousUser | None, params: dict[str, Any]) -> Scenario:
    """Run the simulation for `params` ({"segments": [...], "discount": ..., ...}) and save it under
    `name` with its inputs, results and the segmentation run it used."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the scenario a name.", {"field": "name"})
    params = {key: value for key, value in params.items() if value is not None}
    segments = params.pop("segments", None) or params.pop("segment", None) or []
    if isinstance(segments, str):
        segments = [segments]
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ApplicationError(f"Unknown parameter: {', '.join(unknown)}.", {"field": unknown[0]})
    result = campaign_simulate(segments=list(segments), **params)
    return Scenario.objects.create(
        name=name[:200],
        created_by=user if isinstance(user, User) else None,
        inputs={"segments": list(result.segments), **params},
        results=simulation_payload(result),
        segmentation_run_id=result.segmentation_run_id,
    )


def _control_mask(customers: int, *, control_share: float, seed: int) -> np.ndarray:
    """A random control group of round(share·N) customers, reproducible from the seed."""
    control = round(customers * control_share)
    mask = np.zeros(customers, dtype=bool)
    mask[np.random.default_rng(seed).permutation(customers)[:control]] = True
    return mask


@transaction.atomic
def target_export_create(
    *,
    segments: list[str],
    control_share: float | None = None,
    seed: int | None = None,
    order_by: str = "customer_id",
    user: User | AnonymousUser | None,
) -> tuple[TargetExport, Iterator[tuple[str, str]]]:
    """Record an export of the chosen segments' customers and return it with its rows
    (customer_id, "target" or "control"), ordered by customer id, or from the most valuable by "clv" or
    by "value_at_risk" (the run's customer-value predictions). The control group is a random
    `control_share` of them drawn with `seed` (a fresh random seed when none is given, recorded),
    whatever the order."""
    active, names = _resolve_segments(segments)
    share = DEFAULT_CONTROL_SHARE if control_share is None else control_share
    if not 0 <= share < 1:
        raise _invalid(
            "control_share must be at least 0 and below 1 (0.1 means 10%).",
            field="control_share",
            valid_segments=list(active.segment_names),
        )
    if seed is None:
        seed = secrets.randbelow(2**31)
    elif not 0 <= seed <= MAX_SEED:
        raise _invalid(
            f"seed must be between 0 and {MAX_SEED}.", field="seed", valid_segments=list(active.segment_names)
        )
    if order_by not in TARGET_ORDERS:
        raise _invalid(
            f"order_by must be one of: {', '.join(TARGET_ORDERS)}.",
            field="order_by",
            valid_segments=list(active.segment_names),
        )
    customers = selectors.segment_customers(active=active, segments=names)
    customer_ids = [external for _, external in customers]
    mask = _control_mask(len(customer_ids), control_share=share, seed=seed)
    if order_by != "customer_id":
        try:
            order = segmentation_selectors.customer_value_order(
                run_id=active.run_id, customer_ids=np.array([pk for pk, _ in customers], dtype=np.int64), by=order_by
            )
        except ApplicationError as error:
            raise _invalid(
                f"The customers cannot be ordered by value: {error.message}",
                field="order_by",
                valid_segments=list(active.segment_names),
            ) from error
        customer_ids = [customer_ids[index] for index in order]
        mask = mask[order]
    export = TargetExport.objects.create(
        segments=list(names),
        control_share=share,
        seed=seed,
        customers=len(customer_ids),
        control_customers=int(mask.sum()),
        segmentation_run_id=active.run_id,
        created_by=user if isinstance(user, User) else None,
    )
    rows = ((customer, "control" if held else "target") for customer, held in zip(customer_ids, mask, strict=True))
    return export, rows
