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

rho = 1, b = m when alpha >= beta; rho = (alpha + y) / (beta + y), b = s + 1 otherwise. Every term of S
is at most z^n, and it factorises: z^n depends on the time y only, (b)_n / (K + 1)_n on x only. So one
small matrix product over the distinct times and the distinct x gives S everywhere, and the same products
with weighted coefficients give its derivatives: the gradient is analytic. Times whose z exceeds 0.9 (a
parameter ratio past 10 near y = 0, met while the optimiser explores) use scipy's hyp2f1 instead.

P(alive) = (alpha + T)^-m (beta + T)^-s / (m J(T) + s G(t_x)); the conditional expectation and E[X(t)]
are the note's closed forms (no hypergeometric function), with s = 1 as a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln, hyp2f1

from segmentation.clv.calibration import Pairs, Triples
from segmentation.clv.mle import maximise
from segmentation.clv.model import TransactionFit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

SERIES_MAX_Z = 0.9
SERIES_BANDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, SERIES_MAX_Z)
SERIES_TOLERANCE = 1e-16


@dataclass(frozen=True)
class _Layout:
    """The distinct x, t_x and T of the triples, the distinct (t_x, x) and (T, x) pairs, and which pairs
    each triple has. The series are filled on the small grid distinct times x distinct x (one matrix
    product); the rest of the arithmetic runs on the pairs that occur."""

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


@dataclass(frozen=True)
class _Series:
    value: FloatArray  # S on the grid (times x distinct x)
    d_z: FloatArray
    d_b: FloatArray
    d_k: FloatArray


def _terms(z_max: float) -> int:
    """Terms after which the rest of the series is below the tolerance (every term is at most z^n)."""
    if z_max <= 0:
        return 2
    return max(2, int(np.ceil(np.log(SERIES_TOLERANCE * (1 - z_max)) / np.log(z_max))) + 1)


def _series(
    z: FloatArray, b: FloatArray, k: FloatArray, *, needed: npt.NDArray[np.bool_], derivatives: bool
) -> _Series:
    """S(z, b, K) = sum_n (b)_n / (K + 1)_n z^n for every z (rows, in decreasing order: the distinct times
    increase) and every (b, K) (columns), b <= K + 1. Rows are taken in bands of z, each with the terms its
    largest z needs (a few dozen for most times); rows past SERIES_MAX_Z go to scipy's hyp2f1, only at the
    cells `needed` (the (time, x) pairs customers have: near z = 1, when beta dwarfs alpha, hyp2f1 is most
    of the fit's time)."""
    if np.any(np.diff(z) > 0):
        raise ValueError("z must not increase (the times are sorted).")
    shape = (len(z), len(b))
    value, d_z, d_b, d_k = (np.empty(shape) for _ in range(4))
    first_series = int(np.searchsorted(-z, -SERIES_MAX_Z, side="left"))  # rows before it: z > SERIES_MAX_Z
    if first_series < len(z):
        most = _terms(float(z[first_series]))
        n = np.arange(most, dtype=np.float64)
        ratios = (b[:, None] + n[:-1]) / (k[:, None] + 1 + n[:-1])
        coefficients = np.concatenate([np.ones((len(b), 1)), np.cumprod(ratios, axis=1)], axis=1)
        if derivatives:
            psi_b = np.concatenate([np.zeros((len(b), 1)), np.cumsum(1 / (b[:, None] + n[:-1]), axis=1)], axis=1)
            psi_k = np.concatenate([np.zeros((len(k), 1)), np.cumsum(1 / (k[:, None] + 1 + n[:-1]), axis=1)], axis=1)
            by_b, by_k = coefficients * psi_b, coefficients * psi_k
        stop = len(z)
        for limit in SERIES_BANDS:
            start = max(first_series, int(np.searchsorted(-z, -limit, side="left")))
            if start >= stop:
                continue
            band = slice(start, stop)
            stop = start
            terms = min(most, _terms(float(z[start])))
            powers = np.ones((band.stop - band.start, terms))
            np.cumprod(np.broadcast_to(z[band, None], (len(powers), terms - 1)), axis=1, out=powers[:, 1:])
            value[band] = powers @ coefficients[:, :terms].T
            if derivatives:
                d_powers = np.empty_like(powers)
                d_powers[:, 0] = 0.0
                np.multiply(n[1:terms], powers[:, : terms - 1], out=d_powers[:, 1:])
                d_z[band] = d_powers @ coefficients[:, :terms].T
                d_b[band] = powers @ by_b[:, :terms].T
                d_k[band] = -(powers @ by_k[:, :terms].T)
    if first_series > 0:
        value[:first_series] = 1.0  # read only at the needed cells
        rows, columns = np.nonzero(needed[:first_series])
        cells = (rows, columns)
        zz, bb, kk = z[rows], b[columns], k[columns]
        value[cells] = hyp2f1(1.0, bb, kk + 1, zz)
        if derivatives:
            d_z[cells] = bb / (kk + 1) * hyp2f1(2.0, bb + 1, kk + 2, zz)
            step = 1e-6 * (1 + bb)
            d_b[cells] = (hyp2f1(1.0, bb + step, kk + 1, zz) - hyp2f1(1.0, bb - step, kk + 1, zz)) / (2 * step)
            step = 1e-6 * (1 + kk)
            d_k[cells] = (hyp2f1(1.0, bb, kk + 1 + step, zz) - hyp2f1(1.0, bb, kk + 1 - step, zz)) / (2 * step)
    return _Series(value=value, d_z=d_z, d_b=d_b, d_k=d_k)


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
    cell = pairs.time * len(xs) + pairs.x
    needed = np.zeros((len(times), len(xs)), dtype=bool)
    needed.reshape(-1)[cell] = True
    series = _series(z_of_time, b_of_x, k_of_x, needed=needed, derivatives=derivatives)

    y = times[pairs.time]
    m = r + xs[pairs.x] + shift  # the exponent of (alpha + u)
    sigma = s - shift  # the exponent of (beta + u) is sigma + 1
    k = k_of_x[pairs.x]
    log_alpha_y = np.log(alpha + y)
    log_beta_y = np.log(beta + y)
    log_rho = 0.0 if alpha_first else log_alpha_y - log_beta_y
    value_s = series.value.reshape(-1)[cell]
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
    d_z = series.d_z.reshape(-1)[cell] / value_s
    d_b = series.d_b.reshape(-1)[cell] / value_s
    d_k = series.d_k.reshape(-1)[cell] / value_s - 1 / k
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
