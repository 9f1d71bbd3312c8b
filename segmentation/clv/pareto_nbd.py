"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): pure numpy/scipy.

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); their lifetime is
exponential with rate mu ~ Gamma(s, beta). Fader & Hardie's note ("A Note on Deriving the Pareto/NBD
Model and Related Expressions", 2005) gives the likelihood of (x, t_x, T) as

    L = Gamma(r + x) alpha^r beta^s / Gamma(r) * [ (alpha + T)^-(r+x) (beta + T)^-s + s / (r + s + x) A0 ]

with A0 a difference of two Gaussian hypergeometric terms, at t_x and at T. That difference cancels
badly when t_x is near T, and 2F1(r + s + x, s + 1; r + s + x + 1; z) has c - a - b = -s, where scipy's
hyp2f1 is least reliable. We use the same integral, written without a difference: with m = r + x,

    L / (Gamma(r + x) alpha^r beta^s / Gamma(r)) = m J(T) + s G(t_x),
    G(y) = integral_y^inf (alpha + u)^-m (beta + u)^-(s+1) du,   J(y) = the same with exponents m + 1, s,

(integrate (alpha + T)^-m (beta + T)^-s by parts), two positive terms summed in logs. Each tail
integral is, after Euler's transformation (K = m + s, z = |alpha - beta| / (max(alpha, beta) + y)),

    G(y) = (alpha + y)^-m (beta + y)^-s rho(y) S(y) / K,   S = sum_n (b)_n / (K + 1)_n z^n,

rho = 1, b = m when alpha >= beta; rho = (alpha + y) / (beta + y), b = s + 1 otherwise. S is the
Gauss function 2F1(1, b; K + 1; z), computed with its derivatives (the gradient is analytic) at the
(time, x) pairs the customers have (hypergeometric.py: for z up to 0.9 one small matrix product over
the distinct times and the distinct x, since each term factorises; nearer 1, where one of alpha and
beta dwarfs the other, the connection formula at the pairs).

P(alive) = (alpha + T)^-m (beta + T)^-s / (m J(T) + s G(t_x)); the conditional expectation and E[X(t)]
are the note's closed forms (no hypergeometric function), with s = 1 as a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from segmentation.clv import hypergeometric
from segmentation.clv.calibration import Pairs, Triples
from segmentation.clv.mle import maximise
from segmentation.clv.model import TransactionFit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class _Layout:
    """The distinct x, t_x and T of the triples, the distinct (t_x, x) and (T, x) pairs, and which pairs
    each triple has: the series and the rest of the arithmetic run on the pairs that occur."""

    xs: FloatArray
    x_of: IntArray
    t_xs: FloatArray
    T_s: FloatArray
    g_pairs: Pairs
    j_pairs: Pairs
    T: FloatArray

    @classmethod
    def of(cls, triples: Triples) -> _Layout:
        return cls(
            xs=triples.distinct_x[0],
            x_of=triples.distinct_x[1],
            t_xs=triples.distinct_t_x[0],
            T_s=triples.distinct_T[0],
            g_pairs=triples.x_t_x_pairs,
            j_pairs=triples.x_T_pairs,
            T=triples.T,
        )


def _log_tail(
    parameters: FloatArray, times: FloatArray, xs: FloatArray, pairs: Pairs, shift: int, *, derivatives: bool
) -> tuple[FloatArray, FloatArray | None]:
    """log of integral_y^inf (alpha + u)^-(m + shift) (beta + u)^-(s + 1 - shift) du at each pair
    (y = times[pair.time], m = r + xs[pair.x]): G with shift 0, J with shift 1. With `derivatives`,
    also its derivatives in (r, alpha, s, beta), shape (4, pairs)."""
    r, alpha, s, beta = parameters
    alpha_first = alpha >= beta
    lead = alpha if alpha_first else beta
    z_of_time = abs(alpha - beta) / (lead + times)
    k_of_x = r + s + xs
    b_of_x = r + xs + shift if alpha_first else np.full(len(xs), s - shift + 1)
    # S at each (time, x) pair customers have (see hypergeometric.py).
    series = hypergeometric.at_pairs(z_of_time, b_of_x, k_of_x, pairs.time, pairs.x)

    y = times[pairs.time]
    m = r + xs[pairs.x] + shift  # the exponent of (alpha + u)
    sigma = s - shift  # the exponent of (beta + u) is sigma + 1
    k = k_of_x[pairs.x]
    log_alpha_y = np.log(alpha + y)
    log_beta_y = np.log(beta + y)
    log_rho = 0.0 if alpha_first else log_alpha_y - log_beta_y
    value_s = series.value
    value = -m * log_alpha_y - sigma * log_beta_y + log_rho + np.log(value_s) - np.log(k)
    if not derivatives:
        return value, None

    alpha_y, beta_y = alpha + y, beta + y
    if alpha_first:
        z_alpha, z_beta = beta_y / alpha_y**2, -1 / alpha_y
        b_r, b_s = 1.0, 0.0
        rho_alpha, rho_beta = 0.0, 0.0
    else:
        z_alpha, z_beta = -1 / beta_y, alpha_y / beta_y**2
        b_r, b_s = 0.0, 1.0
        rho_alpha, rho_beta = 1 / alpha_y, -1 / beta_y
    d_z = series.d_z / value_s
    d_b = series.d_b / value_s
    d_k = series.d_k / value_s - 1 / k
    gradient = np.stack(
        [
            -log_alpha_y + b_r * d_b + d_k,
            -m / alpha_y + rho_alpha + d_z * z_alpha,
            -log_beta_y + b_s * d_b + d_k,
            -sigma / beta_y + rho_beta + d_z * z_beta,
        ]
    )
    return value, gradient


def log_likelihood(parameters: FloatArray, triples: Triples) -> tuple[float, FloatArray]:
    """The Pareto/NBD log-likelihood of the triples (weighted) and its gradient in (r, alpha, s, beta)."""
    return _log_likelihood(parameters, _Layout.of(triples), triples.weight)


def _log_likelihood(parameters: FloatArray, layout: _Layout, weight: FloatArray) -> tuple[float, FloatArray]:
    r, alpha, s, beta = parameters
    xs = layout.xs
    g_pairs, j_pairs = layout.g_pairs, layout.j_pairs
    log_g, d_log_g = _log_tail(parameters, layout.t_xs, xs, g_pairs, 0, derivatives=True)
    log_j, d_log_j = _log_tail(parameters, layout.T_s, xs, j_pairs, 1, derivatives=True)
    assert d_log_g is not None and d_log_j is not None
    m = r + xs
    # log m J(T) on the (x, T) pairs, log s G(t_x) on the (x, t_x) pairs; mixed per triple.
    alive_term = (np.log(m)[j_pairs.x] + log_j)[j_pairs.of_triple]
    dead_term = (np.log(s) + log_g)[g_pairs.of_triple]
    mixture = np.logaddexp(alive_term, dead_term)
    weighted_j = weight * np.exp(alive_term - mixture)
    weight_j_of_pair = np.bincount(j_pairs.of_triple, weights=weighted_j, minlength=len(log_j))
    weight_g_of_pair = np.bincount(g_pairs.of_triple, weights=weight - weighted_j, minlength=len(log_g))

    customers = weight.sum()
    weight_of_x = np.bincount(layout.x_of, weights=weight, minlength=len(xs))
    total = float(
        weight_of_x @ (gammaln(m) - gammaln(r)) + customers * (r * np.log(alpha) + s * np.log(beta)) + weight @ mixture
    )
    from_tails = d_log_j @ weight_j_of_pair + d_log_g @ weight_g_of_pair
    weight_j_of_x = np.bincount(j_pairs.x, weights=weight_j_of_pair, minlength=len(xs))
    direct = np.array(
        [
            weight_of_x @ (digamma(m) - digamma(r)) + customers * np.log(alpha) + weight_j_of_x @ (1 / m),
            customers * r / alpha,
            customers * np.log(beta) + weight_g_of_pair.sum() / s,
            customers * s / beta,
        ]
    )
    return total, direct + from_tails


def _relative_growth(q: FloatArray, exponent: float) -> FloatArray:
    """(1 - q^exponent) / exponent, and -log q at exponent 0."""
    log_q = np.log(q)
    if abs(exponent) < 1e-10:
        return -log_q
    return -np.expm1(exponent * log_q) / exponent


@dataclass(frozen=True)
class ParetoNbd:
    r: float
    alpha: float
    s: float
    beta: float

    name: ClassVar[str] = "pareto_nbd"
    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")

    @property
    def parameters(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.s, self.beta])

    def with_parameters(self, values: FloatArray) -> ParetoNbd:
        r, alpha, s, beta = (float(value) for value in values)
        return ParetoNbd(r=r, alpha=alpha, s=s, beta=beta)

    def p_alive(self, triples: Triples) -> FloatArray:
        layout = _Layout.of(triples)
        parameters = self.parameters
        log_g, _ = _log_tail(parameters, layout.t_xs, layout.xs, layout.g_pairs, 0, derivatives=False)
        log_j, _ = _log_tail(parameters, layout.T_s, layout.xs, layout.j_pairs, 1, derivatives=False)
        m = self.r + layout.xs[layout.x_of]
        alive_term = np.log(m) + log_j[layout.j_pairs.of_triple]
        dead_term = np.log(self.s) + log_g[layout.g_pairs.of_triple]
        log_survived = -m * np.log(self.alpha + layout.T) - self.s * np.log(self.beta + layout.T)
        return np.exp(log_survived - np.logaddexp(alive_term, dead_term))

    def expected_purchases(self, horizons: FloatArray, triples: Triples) -> FloatArray:
        x, T = triples.x, triples.T
        t = np.atleast_1d(np.asarray(horizons, dtype=np.float64))[:, None]
        if_alive = (
            (self.r + x)
            * (self.beta + T)
            / (self.alpha + T)
            * _relative_growth((self.beta + T) / (self.beta + T + t), self.s - 1)
        )
        return if_alive * self.p_alive(triples)

    def unconditional_purchases(self, t: FloatArray) -> FloatArray:
        t = np.asarray(t, dtype=np.float64)
        return self.r * self.beta / self.alpha * _relative_growth(self.beta / (self.beta + t), self.s - 1)


def fit(triples: Triples, *, start: FloatArray | None = None) -> TransactionFit:
    """Maximum-likelihood Pareto/NBD on a calibration's triples, from `start` (r, alpha, s, beta) when given."""
    layout = _Layout.of(triples)
    scale = max(float(np.mean(triples.T)), 1.0)
    initial = np.asarray(start, dtype=np.float64) if start is not None else np.array([1.0, scale, 1.0, scale])
    estimate = maximise(
        lambda parameters: _log_likelihood(parameters, layout, triples.weight),
        start=initial,
        names=ParetoNbd.parameter_names,
        scale=float(triples.weight.sum()),
    )
    return TransactionFit(
        model=ParetoNbd(*(float(value) for value in estimate.values)),
        estimate=estimate,
        customers=int(triples.weight.sum()),
    )
