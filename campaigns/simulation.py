"""The campaign ROI model: closed form, Monte Carlo, break-even, control-group size and the
profit-against-discount curve. Pure numpy; no ORM. Money is float here; interfaces round to cents.

For N targeted customers with average order value A, discount d, response rate r with the offer,
baseline rate b (would buy in the horizon anyway), gross margin m, contact cost c and fixed cost F:

- without the campaign the segment brings N·b·A·m of profit;
- with it, N·r orders at A·(1-d), profit N·r·A·(m-d);
- incremental profit  = N·r·A·(m-d) - N·b·A·m - N·c - F;
- incremental revenue = N·r·A·(1-d) - N·b·A (net sales with the offer minus the sales the segment
  would have brought anyway);
- discount cost = N·r·A·d; campaign cost = N·c + F + N·r·A·d;
- ROI = incremental profit ÷ campaign cost; undefined (None) when the cost is 0;
- break-even response rate r* = (N·b·A·m + N·c + F) ÷ (N·A·(m-d)) when m > d; when d ≥ m every
  order loses money, so no response rate breaks even (None) and the campaign is a loss.

Monte Carlo (seeded): each customer buys with the offer with probability r and would have bought
anyway with probability b. The worlds are coupled, as potential outcomes of the same customers:
someone who would have bought anyway also buys with the offer (at the discount) when b ≤ r, so per
run K ~ Binomial(N, r) buyers with the offer, of whom J ~ Binomial(K, b/r) would have bought
anyway (when b > r the roles swap: J ~ Binomial(N, b), K ~ Binomial(J, r/b)). The marginals are
exactly Bernoulli(r) and Bernoulli(b) per customer. Each order's value is drawn with replacement
from the segment's real order values (bootstrap); a customer who buys in both worlds spends the
same basket.

Draw budget: a call that needs at most `EXACT_DRAWS_LIMIT` draws in all is bootstrapped exactly.
Beyond it (large segments, high rates or many runs), each run's sum over `NORMAL_MIN_DRAWS` orders
or more (the orders of those who buy in both worlds, or of those who buy in one only) is drawn from
its normal approximation instead, with the bootstrap sum's own mean k·μ and variance k·σ²; smaller
sums are still bootstrapped, and the result names the method ("bootstrap", "normal approximation"
or "bootstrap and normal approximation"). A sum of k draws has the order values' skewness divided
by √k, under 0.08 at k ≥ 1,000 for the demo data's segments (skewness 1.0-2.5): the normal curve
moves its 5th and 95th percentiles by about that ÷ 6 · (1.645² - 1) ≈ 0.022 standard deviations,
under half their own Monte Carlo error with 2,000 runs (≈ 0.05). With 2,000 runs a call never
bootstraps more than 4 M draws: over the budget, the sums left to bootstrap are under 1,000 each.

Control group: customers per group to detect r against b with a two-sided two-proportion z-test at
5% significance and 80% power (Fleiss' formula without continuity correction: pooled variance under
the null, unpooled under the alternative), rounded up:
    n = (z_{1-alpha/2}·√(2·p̄(1-p̄)) + z_{1-beta}·√(r(1-r) + b(1-b)))² ÷ (r - b)²,  p̄ = (r + b)/2.
Both groups need n customers, so the hold-out is capped at half the segment (flagged). Its cost is
the expected incremental profit forgone on the held-out customers, n·(r·A·(m-d) - b·A·m - c)
(negative when the campaign loses money per customer: holding out then saves money).

Profit against discount: the response at the chosen discount d₀ is r; at another discount d the
uplift over baseline scales as (d/d₀)^elasticity (default 0.5, diminishing returns), so
r(d) = b + (r - b)·(d/d₀)^e, clipped to [0, 1]. With d₀ = 0 there is nothing to scale and r(d) = r.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

DEFAULT_SIMULATIONS = 2000
MAX_SIMULATIONS = 20_000
# Bounds that keep every amount well inside what the API's decimal strings and the database hold.
MAX_CONTACT_COST = 1_000_000.0
MAX_FIXED_COST = 1_000_000_000_000.0
MAX_SEED = 2**63 - 1
DEFAULT_MARGIN = 0.40
DEFAULT_ELASTICITY = 0.5
ALPHA = 0.05
POWER = 0.80
# Bootstrap draws a call makes exactly (about 6 ns of CPU each: ~25 ms, so that the Simulator page
# renders in under 150 ms); beyond them, sums over NORMAL_MIN_DRAWS orders or more are approximated.
EXACT_DRAWS_LIMIT = 4_000_000
NORMAL_MIN_DRAWS = 1_000
# Draws generated per chunk: keeps memory flat and the pieces in cache (2 M a chunk took a fifth
# longer). The draws are the same whatever the chunk size (the generator's stream runs on).
_CHUNK_DRAWS = 262_144

FloatArray = npt.NDArray[np.float64]


class InvalidAssumption(ValueError):
    """An input outside its domain; `field` names the input."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class CampaignAssumptions:
    discount: float
    response_rate: float
    baseline_rate: float
    contact_cost: float = 0.0
    fixed_cost: float = 0.0
    margin: float = DEFAULT_MARGIN
    horizon_days: int = 30
    simulations: int = DEFAULT_SIMULATIONS
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("discount", "response_rate", "baseline_rate", "contact_cost", "fixed_cost", "margin"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidAssumption(name, f"{name} must be a finite number.")
        if not 0 <= self.discount < 1:
            raise InvalidAssumption("discount", "discount must be at least 0 and below 1 (0.15 means 15%).")
        for name in ("response_rate", "baseline_rate", "margin"):
            if not 0 <= getattr(self, name) <= 1:
                raise InvalidAssumption(name, f"{name} must be between 0 and 1.")
        for name, ceiling in (("contact_cost", MAX_CONTACT_COST), ("fixed_cost", MAX_FIXED_COST)):
            if getattr(self, name) < 0:
                raise InvalidAssumption(name, f"{name} cannot be negative.")
            if getattr(self, name) > ceiling:
                raise InvalidAssumption(name, f"{name} cannot exceed {ceiling:,.0f}.")
        if self.horizon_days < 1:
            raise InvalidAssumption("horizon_days", "horizon_days must be at least 1.")
        if not 1 <= self.simulations <= MAX_SIMULATIONS:
            raise InvalidAssumption("simulations", f"simulations must be between 1 and {MAX_SIMULATIONS}.")
        if not 0 <= self.seed <= MAX_SEED:
            raise InvalidAssumption("seed", f"seed must be between 0 and {MAX_SEED}.")


@dataclass(frozen=True)
class SegmentStats:
    """What the model needs from history: how many customers, and the values of their orders."""

    customers: int
    order_values: FloatArray = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        values = np.ascontiguousarray(self.order_values, dtype=np.float64)
        values.flags.writeable = False
        object.__setattr__(self, "order_values", values)
        if self.customers < 0:
            raise InvalidAssumption("customers", "customers cannot be negative.")

    @property
    def avg_order_value(self) -> float:
        return float(self.order_values.mean()) if self.order_values.size else 0.0


@dataclass(frozen=True)
class ClosedForm:
    expected_orders: float
    incremental_revenue: float
    discount_cost: float
    total_cost: float
    incremental_profit: float
    roi: float | None
    break_even_response_rate: float | None
    break_even_note: str


@dataclass(frozen=True)
class ControlGroup:
    # Customers to hold out (and to treat) for the test; capped at half the segment.
    size: int | None
    # What the formula asks for, before the cap; None when there is no uplift to detect.
    required: int | None
    capped: bool
    holdout_cost: float
    note: str


@dataclass(frozen=True)
class MonteCarlo:
    runs: int
    method: str  # "bootstrap", "normal approximation" or "bootstrap and normal approximation"
    profit_p5: float
    profit_p50: float
    profit_p95: float
    roi_p5: float | None
    roi_p50: float | None
    roi_p95: float | None
    probability_of_loss: float
    # Every run's incremental profit, for the histogram.
    profits: FloatArray = field(repr=False, compare=False)


@dataclass(frozen=True)
class SimulationResult:
    assumptions: CampaignAssumptions
    customers_targeted: int
    avg_order_value: float
    expected_orders: float
    incremental_revenue: float
    discount_cost: float
    total_cost: float
    incremental_profit: float
    roi: float | None
    break_even_response_rate: float | None
    break_even_note: str
    # The discount is at least the margin: every order sold loses money.
    margin_wiped_out: bool
    profit_p5: float
    profit_p50: float
    profit_p95: float
    roi_p5: float | None
    roi_p50: float | None
    roi_p95: float | None
    probability_of_loss: float
    monte_carlo_method: str
    control_group: ControlGroup
    simulated_profits: FloatArray = field(repr=False, compare=False)
    # Filled in by the service: which segments, from which segmentation run, and where each
    # assumption's value came from ({"baseline_rate": "share of ... who bought ...", ...}).
    segments: tuple[str, ...] = ()
    segmentation_run_id: int | None = None
    assumption_sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def control_group_size(self) -> int | None:
        return self.control_group.size

    @property
    def offer_lowers_sales(self) -> bool:
        """The response rate with the offer is below the baseline: fewer customers would buy with the
        offer than without it, so the campaign can only lose sales (and money)."""
        return self.assumptions.response_rate < self.assumptions.baseline_rate


@dataclass(frozen=True)
class DiscountCurve:
    discounts: tuple[float, ...]
    response_rates: tuple[float, ...]
    incremental_profits: tuple[float, ...]
    best_discount: float
    best_profit: float
    elasticity: float


def closed_form(*, customers: int, avg_order_value: float, assumptions: CampaignAssumptions) -> ClosedForm:
    a = assumptions
    n, aov = float(customers), float(avg_order_value)
    r, b, d, m = a.response_rate, a.baseline_rate, a.discount, a.margin
    expected_orders = n * r
    discount_cost = n * r * aov * d
    total_cost = n * a.contact_cost + a.fixed_cost + discount_cost
    profit = _incremental_profit(n, aov, r, b, d, m, a.contact_cost, a.fixed_cost)
    roi = profit / total_cost if total_cost > 0 else None
    break_even, note = _break_even(n, aov, b, d, m, a.contact_cost, a.fixed_cost)
    return ClosedForm(
        expected_orders=expected_orders,
        incremental_revenue=n * r * aov * (1 - d) - n * b * aov,
        discount_cost=discount_cost,
        total_cost=total_cost,
        incremental_profit=profit,
        roi=roi,
        break_even_response_rate=break_even,
        break_even_note=note,
    )


def _incremental_profit(n: float, aov: float, r: Any, b: float, d: Any, m: float, contact: float, fixed: float) -> Any:
    """The closed form, elementwise over arrays of r and d (the discount curve uses it too)."""
    return n * r * aov * (m - d) - n * b * aov * m - n * contact - fixed


def _break_even(
    n: float, aov: float, b: float, d: float, m: float, contact: float, fixed: float
) -> tuple[float | None, str]:
    if d >= m:
        return None, "Unreachable: the discount is at least the margin, so every order loses money."
    if n == 0 or aov == 0:
        return None, "Unreachable: the segment has no customers or no orders."
    rate = (n * b * aov * m + n * contact + fixed) / (n * aov * (m - d))
    if rate > 1:
        return None, f"Unreachable: breaking even needs a response rate of {rate:.1%}, above 100%."
    return rate, "The response rate at which incremental profit is zero."


def control_group(
    *,
    customers: int,
    avg_order_value: float,
    assumptions: CampaignAssumptions,
    alpha: float = ALPHA,
    power: float = POWER,
) -> ControlGroup:
    a = assumptions
    p1, p2 = a.response_rate, a.baseline_rate
    per_customer = p1 * avg_order_value * (a.margin - a.discount) - p2 * avg_order_value * a.margin - a.contact_cost
    if p1 == p2:
        return ControlGroup(
            size=None,
            required=None,
            capped=False,
            holdout_cost=0.0,
            note="No uplift to detect: the response rate equals the baseline rate.",
        )
    required = two_proportion_sample_size(p1, p2, alpha=alpha, power=power)
    limit = customers // 2
    capped = required > limit
    size = min(required, limit)
    if capped:
        note = (
            f"The test needs {required:,} customers per group but the segment has {customers:,}: "
            f"holding out {size:,} (half) leaves it underpowered."
        )
    else:
        note = f"Hold out {size:,} customers to detect the uplift at 80% power and 5% significance."
    return ControlGroup(size=size, required=required, capped=capped, holdout_cost=size * per_customer, note=note)


def two_proportion_sample_size(p1: float, p2: float, *, alpha: float = ALPHA, power: float = POWER) -> int:
    """Customers per group for a two-sided two-proportion z-test (Fleiss, no continuity correction)."""
    if p1 == p2:
        raise ValueError("The proportions are equal: there is no difference to detect.")
    z_alpha = NormalDist().inv_cdf(1 - alpha / 2)
    z_beta = NormalDist().inv_cdf(power)
    p_bar = (p1 + p2) / 2
    numerator = z_alpha * math.sqrt(2 * p_bar * (1 - p_bar)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    # Round before ceil so that an exact integer computed with float noise is not bumped up by one.
    return math.ceil(round(numerator**2 / (p1 - p2) ** 2, 9))


def monte_carlo(stats: SegmentStats, assumptions: CampaignAssumptions) -> MonteCarlo:
    a = assumptions
    runs, n = a.simulations, stats.customers
    rng = np.random.default_rng(a.seed)
    r, b = a.response_rate, a.baseline_rate
    values = stats.order_values
    # Nested worlds: the larger rate's buyers first, the smaller rate's buyers as a subset of them.
    outer, inner = (r, b) if r >= b else (b, r)
    outer_count = rng.binomial(n, outer, size=runs) if values.size else np.zeros(runs, dtype=np.int64)
    inner_count = rng.binomial(outer_count, inner / outer) if outer > 0 else np.zeros(runs, dtype=np.int64)

    if int(outer_count.sum()) <= EXACT_DRAWS_LIMIT:
        method = "bootstrap"
        inner_sum, rest_sum = _bootstrap_sums(rng, values, inner_count, outer_count)
    else:
        method, inner_sum, rest_sum = _sums_over_budget(rng, values, inner_count, outer_count)
    outer_sum = inner_sum + rest_sum
    campaign_sales, baseline_sales = (outer_sum, inner_sum) if r >= b else (inner_sum, outer_sum)

    fixed_costs = n * a.contact_cost + a.fixed_cost
    profits = (a.margin - a.discount) * campaign_sales - a.margin * baseline_sales - fixed_costs
    costs = fixed_costs + a.discount * campaign_sales
    with np.errstate(divide="ignore", invalid="ignore"):
        rois = np.where(costs > 0, profits / np.where(costs > 0, costs, 1.0), np.nan)
    p5, p50, p95 = (float(x) for x in np.percentile(profits, [5, 50, 95]))
    roi_q: list[float | None] = [None, None, None]
    if not np.isnan(rois).all():
        roi_q = [float(x) for x in np.nanpercentile(rois, [5, 50, 95])]
    profits.flags.writeable = False
    return MonteCarlo(
        runs=runs,
        method=method,
        profit_p5=p5,
        profit_p50=p50,
        profit_p95=p95,
        roi_p5=roi_q[0],
        roi_p50=roi_q[1],
        roi_p95=roi_q[2],
        probability_of_loss=float(np.mean(profits < 0)),
        profits=profits,
    )


def _bootstrap_sums(
    rng: np.random.Generator, values: FloatArray, inner_count: npt.NDArray[np.int64], outer_count: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """Per run, draw outer_count values with replacement; return the sum of the first inner_count
    of them and the sum of the rest. All runs' draws go into one array per chunk, and
    np.add.reduceat sums the pieces: two pieces per run, starting at its start and at start + inner."""
    runs = outer_count.size
    inner_sum = np.zeros(runs)
    rest_sum = np.zeros(runs)
    if values.size == 0 or not outer_count.any():
        return inner_sum, rest_sum
    ends = np.cumsum(outer_count)
    starts = ends - outer_count
    index_dtype = np.int32 if values.size < 2**31 else np.int64
    first = 0
    while first < runs:
        # As many whole runs as fit in a chunk (at least one).
        last = max(int(np.searchsorted(ends, starts[first] + _CHUNK_DRAWS, side="right")), first + 1)
        base = int(starts[first])
        draws = int(ends[last - 1]) - base
        drawn = values[rng.integers(0, values.size, size=draws, dtype=index_dtype)]
        run_starts = starts[first:last] - base
        offsets = np.empty(2 * (last - first), dtype=np.int64)
        offsets[0::2] = run_starts
        offsets[1::2] = run_starts + inner_count[first:last]
        lengths = np.empty_like(offsets)
        lengths[0::2] = inner_count[first:last]
        lengths[1::2] = outer_count[first:last] - inner_count[first:last]
        # Only the non-empty pieces: their offsets are strictly increasing and inside the array,
        # which is what reduceat needs to return plain sums (an empty piece sums to 0).
        filled = lengths > 0
        sums = np.zeros(offsets.size)
        sums[filled] = np.add.reduceat(drawn, offsets[filled])
        inner_sum[first:last] = sums[0::2]
        rest_sum[first:last] = sums[1::2]
        first = last
    return inner_sum, rest_sum


def _sums_over_budget(
    rng: np.random.Generator, values: FloatArray, inner_count: npt.NDArray[np.int64], outer_count: npt.NDArray[np.int64]
) -> tuple[str, FloatArray, FloatArray]:
    """The two sums of each run, those over NORMAL_MIN_DRAWS orders or more from their normal
    approximation, the others bootstrapped; and the method that names what was done."""
    rest_count = outer_count - inner_count
    inner_large = inner_count >= NORMAL_MIN_DRAWS
    rest_large = rest_count >= NORMAL_MIN_DRAWS
    small_inner = np.where(inner_large, 0, inner_count)
    small_rest = np.where(rest_large, 0, rest_count)
    boot_inner, boot_rest = _bootstrap_sums(rng, values, small_inner, small_inner + small_rest)
    # A count of 0 sums to exactly 0 in either method, so each run's sum comes from one of them.
    normal_inner, normal_rest = _normal_sums(
        rng, values, np.where(inner_large, inner_count, 0), np.where(rest_large, rest_count, 0)
    )
    bootstrapped = bool(small_inner.any() or small_rest.any())
    approximated = bool(inner_large.any() or rest_large.any())
    method = " and ".join(
        name for name, used in (("bootstrap", bootstrapped), ("normal approximation", approximated)) if used
    )
    return method or "bootstrap", boot_inner + normal_inner, boot_rest + normal_rest


def _normal_sums(
    rng: np.random.Generator, values: FloatArray, inner_count: npt.NDArray[np.int64], rest_count: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    mean, std = float(values.mean()), float(values.std())
    inner = inner_count * mean + np.sqrt(inner_count) * std * rng.standard_normal(inner_count.size)
    rest = rest_count * mean + np.sqrt(rest_count) * std * rng.standard_normal(rest_count.size)
    return inner, rest


def simulate_campaign(stats: SegmentStats, assumptions: CampaignAssumptions) -> SimulationResult:
    """The closed form, the Monte Carlo and the control group for one segment and one set of inputs."""
    aov = stats.avg_order_value
    exact = closed_form(customers=stats.customers, avg_order_value=aov, assumptions=assumptions)
    simulated = monte_carlo(stats, assumptions)
    return SimulationResult(
        assumptions=assumptions,
        customers_targeted=stats.customers,
        avg_order_value=aov,
        expected_orders=exact.expected_orders,
        incremental_revenue=exact.incremental_revenue,
        discount_cost=exact.discount_cost,
        total_cost=exact.total_cost,
        incremental_profit=exact.incremental_profit,
        roi=exact.roi,
        break_even_response_rate=exact.break_even_response_rate,
        break_even_note=exact.break_even_note,
        margin_wiped_out=assumptions.discount >= assumptions.margin and assumptions.discount > 0,
        profit_p5=simulated.profit_p5,
        profit_p50=simulated.profit_p50,
        profit_p95=simulated.profit_p95,
        roi_p5=simulated.roi_p5,
        roi_p50=simulated.roi_p50,
        roi_p95=simulated.roi_p95,
        probability_of_loss=simulated.probability_of_loss,
        monte_carlo_method=simulated.method,
        control_group=control_group(customers=stats.customers, avg_order_value=aov, assumptions=assumptions),
        simulated_profits=simulated.profits,
    )


def profit_by_discount(
    *,
    customers: int,
    avg_order_value: float,
    assumptions: CampaignAssumptions,
    max_discount: float = 0.50,
    step: float = 0.01,
    elasticity: float = DEFAULT_ELASTICITY,
) -> DiscountCurve:
    """Closed-form incremental profit for discounts 0, step, ..., max_discount; the response at
    each discount follows the uplift model in the module docstring."""
    if elasticity < 0:
        raise InvalidAssumption("elasticity", "elasticity cannot be negative.")
    a = assumptions
    discounts = np.round(np.arange(0, max_discount + step / 2, step), 10)
    if a.discount > 0:
        scale = (discounts / a.discount) ** elasticity
        rates = np.clip(a.baseline_rate + (a.response_rate - a.baseline_rate) * scale, 0.0, 1.0)
    else:
        rates = np.full(discounts.shape, a.response_rate)
    profits = _incremental_profit(
        float(customers), avg_order_value, rates, a.baseline_rate, discounts, a.margin, a.contact_cost, a.fixed_cost
    )
    best = int(np.argmax(profits))
    return DiscountCurve(
        discounts=tuple(float(x) for x in discounts),
        response_rates=tuple(float(x) for x in rates),
        incremental_profits=tuple(float(x) for x in profits),
        best_discount=float(discounts[best]),
        best_profit=float(profits[best]),
        elasticity=elasticity,
    )
