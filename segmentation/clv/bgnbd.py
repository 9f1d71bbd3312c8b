"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): pure numpy/scipy.

While active, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after each purchase
they drop out with probability p ~ Beta(a, b). Per customer (x, t_x, T in weeks):

    L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x))
        + [x > 0] B(a + 1, b + x - 1) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + t_x)^(r + x))

summed in logs (logaddexp) over the distinct (x, t_x, T) with counts as weights, with its analytic
gradient. The conditional expectation (their eq. 10) and E[X(t)] (eq. 9) use the Gaussian
hypergeometric function after Euler's transformation,
    (1 - z)^(r + x) 2F1(r + x, b + x; a + b + x - 1; z) = (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z),
whose first two parameters do not grow with x (scipy's hyp2f1 holds ~1e-14 there, checked against mpmath).
The expressions divide by a - 1: a within 1e-7 of 1 is moved to 1 +- 1e-7 (the limit is finite).

Known weakness: a customer with x = 0 has P(alive) = 1 whatever their T (no purchase, so no chance yet
to drop out), however long ago they bought.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from segmentation.clv.calibration import Pairs, Triples
from segmentation.clv.mle import maximise
from segmentation.clv.model import TransactionFit

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    name: ClassVar[str] = "bgnbd"
    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    @property
    def parameters(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.a, self.b])

    def with_parameters(self, values: FloatArray) -> BgNbd:
        r, alpha, a, b = (float(value) for value in values)
        return BgNbd(r=r, alpha=alpha, a=a, b=b)

    def p_alive(self, triples: Triples) -> FloatArray:
        x, t_x, T = triples.x, triples.t_x, triples.T
        repeat = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds_dead = np.log(self.a / (self.b + x - 1)) + (self.r + x) * (
                np.log(self.alpha + T) - np.log(self.alpha + t_x)
            )
        return np.where(repeat, expit(-np.where(repeat, log_odds_dead, 0.0)), 1.0)

    def expected_purchases(self, horizons: FloatArray, triples: Triples) -> FloatArray:
        # Everything but P(alive) depends on (x, T) only: the hypergeometric function runs once per pair.
        pairs = triples.x_T_pairs
        pair_x = triples.distinct_x[0][pairs.x]
        pair_T = triples.distinct_T[0][pairs.time]
        horizons = np.atleast_1d(np.asarray(horizons, dtype=np.float64))[:, None]
        return self._if_alive(horizons, pair_x, pair_T)[:, pairs.of_triple] * self.p_alive(triples)

    def unconditional_purchases(self, t: FloatArray) -> FloatArray:
        t = np.asarray(t, dtype=np.float64)
        return self._if_alive(t, np.zeros_like(t), np.zeros_like(t))

    def _if_alive(self, t: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
        """Expected purchases in (T, T + t] of a customer alive at T with x repeat purchases (eq. 10's numerator)."""
        r, alpha, b = self.r, self.alpha, self.b
        a = _away_from_one(self.a)
        z, x = np.broadcast_arrays(t / (alpha + T + t), x)
        c = a + b + x - 1
        with np.errstate(invalid="ignore", over="ignore"):
            transformed = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        expected = c / (a - 1) * (1 - transformed)
        overflowed = ~np.isfinite(expected)
        if overflowed.any():
            # With a and b in the millions (every customer's dropout chance nearly the same: the fit's
            # beta distribution narrows to a point), Euler's transformed function overflows; the
            # function as the paper writes it, 2F1(r + x, b + x; c; z), is then well conditioned.
            zo, xo, co = z[overflowed], x[overflowed], c[overflowed]
            untransformed = np.exp((r + xo) * np.log1p(-zo)) * hyp2f1(r + xo, b + xo, co, zo)
            expected[overflowed] = co / (a - 1) * (1 - untransformed)
        return expected


def _away_from_one(a: float) -> float:
    if abs(a - 1) < 1e-7:
        return 1 + 1e-7 if a >= 1 else 1 - 1e-7
    return a


@dataclass(frozen=True)
class _Layout:
    """What every evaluation of a fit reuses: the distinct x, customers per x, and the distinct (x, T)
    and (x, t_x) pairs of the triples. Each evaluation computes the two terms of the likelihood on the
    pairs and only mixes them per triple (a third of the passes over the triples)."""

    xs: FloatArray
    weight_of_x: FloatArray
    T_pairs: Pairs
    T_of_pair: FloatArray
    x_of_T_pair: FloatArray
    t_x_pairs: Pairs
    t_x_of_pair: FloatArray
    x_of_t_x_pair: FloatArray

    @classmethod
    def of(cls, triples: Triples) -> _Layout:
        xs, x_of = triples.distinct_x
        T_pairs, t_x_pairs = triples.x_T_pairs, triples.x_t_x_pairs
        return cls(
            xs=xs,
            weight_of_x=np.bincount(x_of, weights=triples.weight, minlength=len(xs)).astype(np.float64),
            T_pairs=T_pairs,
            T_of_pair=triples.distinct_T[0][T_pairs.time],
            x_of_T_pair=xs[T_pairs.x],
            t_x_pairs=t_x_pairs,
            t_x_of_pair=triples.distinct_t_x[0][t_x_pairs.time],
            x_of_t_x_pair=xs[t_x_pairs.x],
        )


def log_likelihood(parameters: FloatArray, triples: Triples) -> tuple[float, FloatArray]:
    """The BG/NBD log-likelihood of the triples (weighted) and its gradient in (r, alpha, a, b)."""
    return _log_likelihood(parameters, triples.weight, _Layout.of(triples))


def _log_likelihood(parameters: FloatArray, weight: FloatArray, layout: _Layout) -> tuple[float, FloatArray]:
    r, alpha, a, b = parameters
    xs, weight_of_x = layout.xs, layout.weight_of_x
    repeat = xs > 0
    base = betaln(a, b)
    per_x_a = betaln(a, b + xs) - base
    per_x_b = np.full(len(xs), -np.inf)
    per_x_b[repeat] = betaln(a + 1, b + xs[repeat] - 1) - base

    # "Still active at T" on the (x, T) pairs, "dropped out after the last purchase" on the (x, t_x) pairs.
    T_pairs, t_x_pairs = layout.T_pairs, layout.t_x_pairs
    r_x_T = r + layout.x_of_T_pair
    r_x_t_x = r + layout.x_of_t_x_pair
    log_alpha_T = np.log(alpha + layout.T_of_pair)
    log_alpha_t_x = np.log(alpha + layout.t_x_of_pair)
    term_a = (per_x_a[T_pairs.x] - r_x_T * log_alpha_T)[T_pairs.of_triple]
    term_b = (per_x_b[t_x_pairs.x] - r_x_t_x * log_alpha_t_x)[t_x_pairs.of_triple]
    mixture = np.logaddexp(term_a, term_b)
    weighted_b = weight * np.exp(term_b - mixture)
    weight_a_of_pair = np.bincount(T_pairs.of_triple, weights=weight - weighted_b, minlength=len(r_x_T))
    weight_b_of_pair = np.bincount(t_x_pairs.of_triple, weights=weighted_b, minlength=len(r_x_t_x))

    customers = weight_of_x.sum()
    total = float(weight_of_x @ (gammaln(r + xs) - gammaln(r)) + customers * r * np.log(alpha) + weight @ mixture)

    weighted_b_of_x = np.bincount(t_x_pairs.x, weights=weight_b_of_pair, minlength=len(xs))
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse_b_x_1 = np.where(repeat, 1 / (b + xs - 1), 0.0)
    gradient = np.array(
        [
            weight_of_x @ (digamma(r + xs) - digamma(r))
            + customers * np.log(alpha)
            - weight_a_of_pair @ log_alpha_T
            - weight_b_of_pair @ log_alpha_t_x,
            customers * r / alpha
            - weight_a_of_pair @ (r_x_T / (alpha + layout.T_of_pair))
            - weight_b_of_pair @ (r_x_t_x / (alpha + layout.t_x_of_pair)),
            weight_of_x @ (digamma(a + b) - digamma(a + b + xs)) + weighted_b_of_x.sum() / a,
            weight_of_x @ (digamma(b + xs) - digamma(a + b + xs) - digamma(b) + digamma(a + b))
            - weighted_b_of_x @ inverse_b_x_1,
        ]
    )
    return total, gradient


def fit(triples: Triples, *, start: FloatArray | None = None) -> TransactionFit:
    """Maximum-likelihood BG/NBD on a calibration's triples, from `start` (r, alpha, a, b) when given."""
    initial = (
        np.asarray(start, dtype=np.float64)
        if start is not None
        else np.array([1.0, max(float(np.mean(triples.T)), 1.0), 1.0, 1.0])
    )
    layout = _Layout.of(triples)
    estimate = maximise(
        lambda parameters: _log_likelihood(parameters, triples.weight, layout),
        start=initial,
        names=BgNbd.parameter_names,
        scale=float(triples.weight.sum()),
    )
    return TransactionFit(
        model=BgNbd(*(float(value) for value in estimate.values)),
        estimate=estimate,
        customers=int(triples.weight.sum()),
    )
