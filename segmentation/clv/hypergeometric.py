"""S(z, b, K) = 2F1(1, b; K + 1; z) = sum_n (b)_n / (K + 1)_n z^n and its derivatives in z, b and K,
for 0 <= z < 1, b > 0, K > 0: the Pareto/NBD likelihood's tail integrals (pareto_nbd.py) need it at
every (time, x) pair its customers have, at every step of the fit (`at_pairs`).

- z <= SERIES_MAX_Z: the series itself. Every term is at most z^n, and it factorises: z^n depends on
  the time only, (b)_n / (K + 1)_n on x only; so one small matrix product over the distinct times
  (rows, taken in bands of z, each with the terms its largest z needs) and the distinct x (columns)
  gives S everywhere, and the same products with weighted coefficients its derivatives.
- z > SERIES_MAX_Z (one of alpha and beta dwarfs the other; on data showing no dropout the likelihood
  runs along a ridge towards beta = infinity, z within 1e-4 of 1), at the pairs only: the connection
  formula to w = 1 - z (Abramowitz & Stegun 15.3.6 with a = 1),

      S = (c - 1) / d * sum_n (b)_n / (1 - d)_n w^n  +  Gamma(c) Gamma(-d) / Gamma(b) * w^d * z^(1 - c),

  c = K + 1, d = c - 1 - b, with analytic derivatives, where it is well conditioned (`_by_connection`):
  d away from an integer (the two parts' poles cancel there), its terms summed past n = d - 1 where
  (1 - d)_n nears zero, and its two parts at most CANCELLATION times the value. That covers the
  ridge (beta large: b is s or s + 1). Left over (alpha dwarfing beta with many purchases, or d within
  NEAR_INTEGER of an integer): scipy's hyp2f1, derivatives in b and K by central differences, as
  every z past 0.9 was before. Several times slower, and at an exact integer d scipy itself can be
  off in the fourth digit or answer NaN (the fit then steps back from that point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln, gammasgn, hyp2f1

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

SERIES_MAX_Z = 0.9
SERIES_BANDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, SERIES_MAX_Z)
TOLERANCE = 1e-16
CANCELLATION = 1e4  # the formula's two parts may be at most this many times the value (4 digits lost)
NEAR_INTEGER = 0.01  # closer to an integer d, the derivatives' parts cancel by 1 / distance^2: scipy


@dataclass(frozen=True)
class Series:
    value: FloatArray
    d_z: FloatArray
    d_b: FloatArray
    d_k: FloatArray


def _terms(z_max: float) -> int:
    """Terms after which the rest of the series is below the tolerance (every term is at most z^n)."""
    if z_max <= 0:
        return 2
    return max(2, int(np.ceil(np.log(TOLERANCE * (1 - z_max)) / np.log(z_max))) + 1)


def at_pairs(z: FloatArray, b: FloatArray, k: FloatArray, rows: IntArray, columns: IntArray) -> Series:
    """S and its derivatives at the pairs (z[rows], b[columns], K[columns]): z for every time (not
    increasing: the times are sorted), b and K for every x."""
    if np.any(np.diff(z) > 0):
        raise ValueError("z must not increase (the times are sorted).")
    out = Series(*(np.empty(len(rows)) for _ in range(4)))
    first_series = int(np.searchsorted(-z, -SERIES_MAX_Z, side="left"))  # rows before it: z > SERIES_MAX_Z
    by_grid = rows >= first_series
    if by_grid.any():
        grid = _grid(z[first_series:], b, k)
        at, cell = np.flatnonzero(by_grid), (rows[by_grid] - first_series, columns[by_grid])
        _put(out, at, Series(grid.value[cell], grid.d_z[cell], grid.d_b[cell], grid.d_k[cell]))
    near = np.flatnonzero(~by_grid)
    if len(near):
        zz, bb, kk = z[rows[near]], b[columns[near]], k[columns[near]]
        done = _by_connection(out, near, zz, bb, kk)
        rest = ~done
        if rest.any():
            _put(out, near[rest], _scipy(zz[rest], bb[rest], kk[rest]))
    return out


def series(z: FloatArray, b: FloatArray, k: FloatArray) -> Series:
    """S and its derivatives at every point (z, b, K): arrays of one length (as `at_pairs` computes it)."""
    z, b, k = (np.asarray(a, dtype=np.float64) for a in (z, b, k))
    times, rows = np.unique(-z, return_inverse=True)  # z decreasing
    pairs, columns = np.unique(np.stack([b, k]), axis=1, return_inverse=True)
    return at_pairs(-times, pairs[0], pairs[1], rows.reshape(-1), columns.reshape(-1))


def _put(out: Series, at: IntArray, part: Series) -> None:
    out.value[at], out.d_z[at], out.d_b[at], out.d_k[at] = part.value, part.d_z, part.d_b, part.d_k


def _grid(z: FloatArray, b: FloatArray, k: FloatArray) -> Series:
    """The series on the grid z (rows, decreasing, all <= SERIES_MAX_Z) x (b, K) (columns)."""
    shape = (len(z), len(b))
    value, d_z, d_b, d_k = (np.empty(shape) for _ in range(4))
    most = _terms(float(z[0]))
    n = np.arange(most, dtype=np.float64)
    ratios = (b[:, None] + n[:-1]) / (k[:, None] + 1 + n[:-1])
    coefficients = np.concatenate([np.ones((len(b), 1)), np.cumprod(ratios, axis=1)], axis=1)
    psi_b = np.concatenate([np.zeros((len(b), 1)), np.cumsum(1 / (b[:, None] + n[:-1]), axis=1)], axis=1)
    psi_k = np.concatenate([np.zeros((len(k), 1)), np.cumsum(1 / (k[:, None] + 1 + n[:-1]), axis=1)], axis=1)
    by_b, by_k = coefficients * psi_b, coefficients * psi_k
    stop = len(z)
    for limit in SERIES_BANDS:
        start = int(np.searchsorted(-z, -limit, side="left"))
        if start >= stop:
            continue
        band = slice(start, stop)
        stop = start
        terms = min(most, _terms(float(z[start])))
        powers = np.ones((band.stop - band.start, terms))
        np.cumprod(np.broadcast_to(z[band, None], (len(powers), terms - 1)), axis=1, out=powers[:, 1:])
        value[band] = powers @ coefficients[:, :terms].T
        d_powers = np.empty_like(powers)
        d_powers[:, 0] = 0.0
        np.multiply(n[1:terms], powers[:, : terms - 1], out=d_powers[:, 1:])
        d_z[band] = d_powers @ coefficients[:, :terms].T
        d_b[band] = powers @ by_b[:, :terms].T
        d_k[band] = -(powers @ by_k[:, :terms].T)
    return Series(value=value, d_z=d_z, d_b=d_b, d_k=d_k)


def _by_connection(out: Series, at: npt.NDArray[np.intp], z: FloatArray, b: FloatArray, k: FloatArray) -> BoolArray:
    """Put the connection formula's values at `at` where it is well conditioned; say where it was."""
    c = k + 1
    d = c - 1 - b
    w = 1 - z
    # d < 1: the w-series' terms only shrink when b w < (1 - d) / 2. d >= 1: (1 - d)_n passes near zero
    # around n = d - 1, after which the terms are about (w / (1 - w))^d: summed past it (w < 0.1 here).
    # Away from integer d either way (the parts' poles cancel).
    done = np.where(d < 1, b * w < 0.5 * (1 - d), True) & (np.abs(d - np.round(d)) > NEAR_INTEGER)
    tame = np.flatnonzero(done)
    if len(tame):
        formula, scale = _connection(z[tame], b[tame], c[tame])
        kept = np.isfinite(formula.value) & (scale < CANCELLATION * np.abs(formula.value))
        _put(out, at[tame[kept]], Series(*(part[kept] for part in _fields(formula))))
        done[tame[~kept]] = False
    return done


def _fields(series: Series) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    return series.value, series.d_z, series.d_b, series.d_k


def _scipy(z: FloatArray, b: FloatArray, k: FloatArray) -> Series:
    step_b, step_k = 1e-6 * (1 + b), 1e-6 * (1 + k)
    return Series(
        value=hyp2f1(1.0, b, k + 1, z),
        d_z=b / (k + 1) * hyp2f1(2.0, b + 1, k + 2, z),
        d_b=(hyp2f1(1.0, b + step_b, k + 1, z) - hyp2f1(1.0, b - step_b, k + 1, z)) / (2 * step_b),
        d_k=(hyp2f1(1.0, b, k + 1 + step_k, z) - hyp2f1(1.0, b, k + 1 - step_k, z)) / (2 * step_k),
    )


def _connection(z: FloatArray, b: FloatArray, c: FloatArray) -> tuple[Series, FloatArray]:
    """The connection formula (module docstring) and its derivatives in z, b and c (= in K); and the
    size of all it sums (against the value: the digits cancellation costs; infinite where the series
    has not converged in its terms)."""
    w = 1 - z
    d = c - 1 - b
    log_w, log_z = np.log(w), np.log(z)
    # First term: (c - 1) / d * T, T = sum_n t_n, t_n = (b)_n / (1 - d)_n w^n; 1 - d = b + 2 - c.
    # Past n = d - 1 where the terms near it, about w^(d - 1), still count.
    poles = d[(d >= 1) & ((d - 1) * log_w > np.log(TOLERANCE) - 5)]
    terms = _terms(float(w.max())) + (int(np.ceil(poles.max())) + 2 if len(poles) else 0)
    n = np.arange(terms - 1, dtype=np.float64)
    factors = (b[:, None] + n) / (1 - d[:, None] + n) * w[:, None]
    t = np.concatenate([np.ones((len(z), 1)), np.cumprod(factors, axis=1)], axis=1)
    lower = np.concatenate([np.zeros((len(z), 1)), np.cumsum(1 / (1 - d[:, None] + n), axis=1)], axis=1)
    upper = np.concatenate([np.zeros((len(z), 1)), np.cumsum(1 / (b[:, None] + n), axis=1)], axis=1)
    sum_t = t.sum(axis=1)
    t_w = (t * np.arange(terms)).sum(axis=1) / w  # dT/dw
    t_b = (t * (upper - lower)).sum(axis=1)  # dT/db: both Pochhammers move with b
    t_c = (t * lower).sum(axis=1)  # dT/dc: (1 - d)_n moves down with c
    a = (c - 1) / d
    first = a * sum_t
    # Second term: Gamma(c) Gamma(-d) / Gamma(b) w^d z^(1 - c), in logs with the sign of Gamma(-d).
    second = gammasgn(-d) * np.exp(gammaln(c) + gammaln(-d) - gammaln(b) + d * log_w + (1 - c) * log_z)
    series = Series(
        value=first + second,
        d_z=-a * t_w + second * (-d / w + (1 - c) / z),
        d_b=(c - 1) / d**2 * sum_t + a * t_b + second * (digamma(-d) - digamma(b) - log_w),
        d_k=(1 / d - (c - 1) / d**2) * sum_t + a * t_c + second * (digamma(c) - digamma(-d) + log_w - log_z),
    )
    # The size of everything summed, and a series whose last term still counts: not to be trusted.
    scale = np.abs(a) * np.abs(t).sum(axis=1) + np.abs(second)
    unfinished = np.abs(t[:, -1]) > TOLERANCE * np.abs(sum_t)
    return series, np.where(unfinished, np.inf, scale)
