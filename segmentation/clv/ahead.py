"""Predictions for customers given by their summaries alone (x, t_x, T in days), for a horizon and a
discount rate other than the refit's: the customer-value API and the simulator ask for them without
the purchase history. Pure numpy/scipy, no database.

- `purchases_ahead`: expected purchases over the horizon, their discounted sum and P(alive), exactly
  as `customer_values` computes them (the same quadrature);
- `purchase_probability`: the probability that a customer buys at least once within the horizon.
  BG/NBD: a customer alive at T with rate lambda buys in (T, T + h] unless the first purchase comes
  after h (dropping out happens only just after a purchase), so P = P(alive) x (1 - ((alpha + T) /
  (alpha + T + h))^(r + x)), exact. Pareto/NBD: a customer alive at T buys before dropping out and
  before h with probability E[lambda / (lambda + mu) (1 - exp(-(lambda + mu) h))] over the posterior
  lambda ~ Gamma(r + x, alpha + T), mu ~ Gamma(s, beta + T), by generalised Gauss-Laguerre
  quadrature in both (32 x 32 nodes; a test checks it against Monte Carlo).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln, roots_genlaguerre

from segmentation.clv.bgnbd import BgNbd
from segmentation.clv.calibration import DAYS_PER_WEEK, Calibration, unique_triples
from segmentation.clv.model import TransactionFit
from segmentation.clv.pareto_nbd import ParetoNbd
from segmentation.clv.threads import single_threaded
from segmentation.clv.value import DAYS_PER_YEAR, _purchases

FloatArray = npt.NDArray[np.float64]
NODES = 32
CHUNK = 2048  # triples per block of the quadrature (CHUNK x NODES x NODES floats)


def _calibration(x: npt.ArrayLike, t_x_days: npt.ArrayLike, T_days: npt.ArrayLike) -> Calibration:
    x_array = np.asarray(x, dtype=np.int64)
    return Calibration(
        customer=np.arange(len(x_array), dtype=np.int64),
        calibration_end=0,
        holdout_end=None,
        first_day=np.zeros(len(x_array), dtype=np.int32),
        x=x_array,
        t_x_days=np.asarray(t_x_days, dtype=np.int64),
        T_days=np.asarray(T_days, dtype=np.int64),
        holdout_x=None,
    )


@single_threaded
def purchases_ahead(
    fit: TransactionFit,
    *,
    x: npt.ArrayLike,
    t_x_days: npt.ArrayLike,
    T_days: npt.ArrayLike,
    horizon_days: int,
    annual_discount_rate: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(expected purchases over the horizon, their discounted sum, P(alive)) per customer."""
    if horizon_days <= 0:
        raise ValueError("The horizon must be at least one day.")
    weekly_rate = np.log1p(annual_discount_rate) * DAYS_PER_WEEK / DAYS_PER_YEAR
    ahead = _purchases(fit, _calibration(x, t_x_days, T_days), horizon_days / DAYS_PER_WEEK, weekly_rate)
    return ahead.expected, ahead.discounted, ahead.p_alive


@single_threaded
def purchase_probability(
    fit: TransactionFit, *, x: npt.ArrayLike, t_x_days: npt.ArrayLike, T_days: npt.ArrayLike, horizon_days: int
) -> FloatArray:
    """P(at least one purchase within the horizon) per customer (see the module docstring)."""
    triples = unique_triples(np.asarray(x), np.asarray(t_x_days), np.asarray(T_days))
    model = fit.model
    h = horizon_days / DAYS_PER_WEEK
    alive = model.p_alive(triples)
    if isinstance(model, BgNbd):
        buys = -np.expm1((model.r + triples.x) * np.log((model.alpha + triples.T) / (model.alpha + triples.T + h)))
    elif isinstance(model, ParetoNbd):
        buys = _pareto_buys(model, triples.x, triples.T, h)
    else:
        raise TypeError(f"No purchase probability for {type(model).__name__}.")
    return (alive * buys)[triples.of_customer]


def _gamma_nodes(shape: float) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights of E[f(G)], G ~ Gamma(shape, 1): generalised Gauss-Laguerre, normalised."""
    nodes, weights = roots_genlaguerre(NODES, shape - 1)
    return nodes, weights / np.exp(gammaln(shape))


def _pareto_buys(model: ParetoNbd, x: FloatArray, T: FloatArray, h: float) -> FloatArray:
    """E[lambda / (lambda + mu) (1 - exp(-(lambda + mu) h))] per triple, lambda and mu from the posterior."""
    mu_nodes, mu_weights = _gamma_nodes(model.s)
    out = np.empty(len(x))
    for value in np.unique(x):
        lam_nodes, lam_weights = _gamma_nodes(model.r + value)
        weights = lam_weights[:, None] * mu_weights[None, :]
        rows = np.flatnonzero(x == value)
        for start in range(0, len(rows), CHUNK):
            chosen = rows[start : start + CHUNK]
            lam = lam_nodes[None, :, None] / (model.alpha + T[chosen])[:, None, None]
            mu = mu_nodes[None, None, :] / (model.beta + T[chosen])[:, None, None]
            total = lam + mu
            out[chosen] = np.einsum("cij,ij->c", lam / total * -np.expm1(-total * h), weights)
    return out
