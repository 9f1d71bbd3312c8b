"""Customers drawn from known BG/NBD or Pareto/NBD and Gamma-Gamma parameters, as `PurchaseDays`: for the recovery
tests and the benchmark (seeded, vectorised, no loop over customers).

Each customer is born on a day drawn uniformly from `first_days` (their first purchase), buys at rate
lambda ~ Gamma(r, alpha) per week and, after each repeat purchase, drops out with probability p ~ Beta(a, b).
Purchases falling on the same day as the previous one are merged (their values added), as the read model
merges same-day lines. Purchase values are Gamma(p, nu) with nu ~ Gamma(q, gamma) per customer."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from segmentation.clv.calibration import DAYS_PER_WEEK, PurchaseDays


def bgnbd_customers(
    customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    first_days: tuple[int, int],
    end: int,
    spend: tuple[float, float, float] = (6.0, 4.0, 60.0),
    seed: int = 0,
    max_purchases: int = 400,
) -> PurchaseDays:
    """Customers born in [first_days[0], first_days[1]) observed until `end` (exclusive)."""
    rng = np.random.default_rng(seed)
    born = rng.integers(first_days[0], first_days[1], customers)
    rate = rng.gamma(r, 1 / alpha, customers)  # purchases per week while active
    dropout = rng.beta(a, b, customers)
    # Repeat purchases a customer lives to make: they drop out after a repeat purchase (not after the
    # first one, hence P(alive) = 1 at x = 0) with probability p, so the count is Geometric(p) >= 1.
    survived = np.minimum(rng.geometric(dropout), max_purchases)
    gaps = rng.exponential(1.0, int(survived.sum())) / np.repeat(rate, survived)
    owner = np.repeat(np.arange(customers), survived)
    running = np.cumsum(gaps)
    starts = np.cumsum(survived) - survived
    elapsed = running - np.repeat(np.concatenate([[0.0], running])[starts], survived)
    repeat_days = np.repeat(born, survived) + np.floor(elapsed * DAYS_PER_WEEK).astype(np.int64)

    return _purchase_days(rng, born, repeat_days, owner, customers=customers, end=end, spend=spend)


def pareto_nbd_customers(
    customers: int,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    first_days: tuple[int, int],
    end: int,
    spend: tuple[float, float, float] = (6.0, 4.0, 60.0),
    seed: int = 0,
) -> PurchaseDays:
    """Pareto/NBD customers: rate lambda ~ Gamma(r, alpha) per week while alive, an exponential lifetime
    with rate mu ~ Gamma(s, beta); purchases in a lifetime are a Poisson count placed uniformly."""
    rng = np.random.default_rng(seed)
    born = rng.integers(first_days[0], first_days[1], customers)
    rate = rng.gamma(r, 1 / alpha, customers)
    lifetime = rng.exponential(1.0, customers) / rng.gamma(s, 1 / beta, customers)
    observed = np.minimum(lifetime, (end - born) / DAYS_PER_WEEK)
    counts = rng.poisson(rate * observed)
    owner = np.repeat(np.arange(customers), counts)
    elapsed = rng.uniform(0.0, 1.0, int(counts.sum())) * np.repeat(observed, counts)
    repeat_days = np.repeat(born, counts) + np.floor(elapsed * DAYS_PER_WEEK).astype(np.int64)
    return _purchase_days(rng, born, repeat_days, owner, customers=customers, end=end, spend=spend)


def _purchase_days(
    rng: np.random.Generator,
    born: npt.NDArray[np.int64],
    repeat_days: npt.NDArray[np.int64],
    owner: npt.NDArray[np.int64],
    *,
    customers: int,
    end: int,
    spend: tuple[float, float, float],
) -> PurchaseDays:
    """First and repeat purchases as `PurchaseDays`: same-day purchases merged, values drawn."""
    days = np.concatenate([born.astype(np.int64), repeat_days])
    who = np.concatenate([np.arange(customers), owner])
    keep = days < end
    days, who = days[keep], who[keep]
    p, q, gamma = spend
    scale = 1 / rng.gamma(q, 1 / gamma, customers)
    values = rng.gamma(p, 1.0, len(days)) * scale[who]

    order = np.lexsort((days, who))
    days, who, values = days[order], who[order], values[order]
    new_day = np.ones(len(days), dtype=bool)
    new_day[1:] = (days[1:] != days[:-1]) | (who[1:] != who[:-1])
    merged_values = np.add.reduceat(values, np.flatnonzero(new_day)) if len(days) else values
    days, who = days[new_day], who[new_day]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(who, minlength=customers))])
    return PurchaseDays.from_arrays(offsets, days, merged_values)
