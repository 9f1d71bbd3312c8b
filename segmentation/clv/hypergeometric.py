"""S(z, b, K) = 2F1(1, b; K + 1; z) = sum_n (b)_n / (K + 1)_n z^n and its derivatives in z, b and K,
at many points at once (numpy), for 0 <= z < 1, b > 0, K > 0: the Pareto/NBD likelihood's tail
integrals (pareto_nbd.py) need it at every (time, x) pair its customers have, at every step of the fit.

- z > CONNECTION_FROM_Z (one of alpha and beta far apart; near z = 1 on data showing no dropout,
  where the likelihood runs along a ridge towards beta = infinity): the connection formula to
  w = 1 - z (Abramowitz & Stegun 15.3.6 with a = 1),

      S = (c - 1) / d * sum_n (b)_n / (1 - d)_n w^n  +  Gamma(c) Gamma(-d) / Gamma(b) * w^d * z^(1 - c),

  c = K + 1, d = c - 1 - b, with analytic derivatives, where it is well conditioned (`_by_connection`):
  d away from an integer (the two parts' poles cancel there), and either d < 1 with terms that only
  shrink, or z > SERIES_MAX_Z, the sum taken past n = d - 1 where (1 - d)_n nears zero; and its two
  parts at most CANCELLATION times the value. That covers the ridge (beta large: b is s or s + 1).
- Elsewhere, z <= SERIES_MAX_Z: the series itself, in bands of z, each with the terms its largest z
  needs (every term is at most z^n); its derivatives are the term-wise ones (digamma-like sums).
- Left over (z > SERIES_MAX_Z with alpha dwarfing beta and many purchases, or d within NEAR_INTEGER
  of an integer): scipy's hyp2f1, derivatives in b and K by central differences, as every z past
  0.9 was before. Several times slower, and at an exact integer d scipy itself can be off in the
  fourth digit or answer NaN (the fit then steps back from that point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln, gammasgn, hyp2f1

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SERIES_MAX_Z = 0.9
CONNECTION_FROM_Z = 0.5
SERIES_BANDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, SERIES_MAX_Z)
TOLERANCE = 1e-16
CANCELLATION = 1e4  # the formula's two parts may be at most this many times the value (4 digits lost)
NEAR_INTEGER = 0.01  # closer to an integer d, the derivatives' parts cancel by 1 / distance^2: series or scipy


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


def series(z: FloatArray, b: FloatArray, k: FloatArray) -> Series:
    """S and its derivatives at every point (z, b, K): arrays of one length."""
    z, b, k = (np.asarray(a, dtype=np.float64) for a in (z, b, k))
    out = Series(*(np.empty(len(z)) for _ in range(4)))
    by_series = z <= CONNECTION_FROM_Z
    high = np.flatnonzero(~by_series)
    if len(high):
        done = _by_connection(out, high, z[high], b[high], k[high])
        by_series[high[~done & (z[high] <= SERIES_MAX_Z)]] = True
        rest = high[~done & (z[high] > SERIES_MAX_Z)]
        if len(rest):
            _put(out, rest, _scipy(z[rest], b[rest], k[rest]))
    band_of = np.searchsorted(np.array(SERIES_BANDS), z, side="left")  # z <= SERIES_BANDS[band]
    for band, limit in enumerate(SERIES_BANDS):
        at = np.flatnonzero(by_series & (band_of == band))
        if len(at):
            _put(out, at, _power_series(z[at], b[at], k[at], _terms(limit)))
    return out


def _put(out: Series, at: npt.NDArray[np.intp], part: Series) -> None:
    out.value[at], out.d_z[at], out.d_b[at], out.d_k[at] = part.value, part.d_z, part.d_b, part.d_k


def _power_series(z: FloatArray, b: FloatArray, k: FloatArray, terms: int) -> Series:
    n = np.arange(terms - 1, dtype=np.float64)
    ones = np.ones((len(z), 1))
    coefficient = np.concatenate([ones, np.cumprod((b[:, None] + n) / (k[:, None] + 1 + n), axis=1)], axis=1)
    powers = np.concatenate([ones, np.cumprod(np.broadcast_to(z[:, None], (len(z), terms - 1)), axis=1)], axis=1)
    term = coefficient * powers  # (b)_n / (K + 1)_n z^n
    running_b = np.concatenate([0 * ones, np.cumsum(1 / (b[:, None] + n), axis=1)], axis=1)
    running_k = np.concatenate([0 * ones, np.cumsum(1 / (k[:, None] + 1 + n), axis=1)], axis=1)
    return Series(
        value=term.sum(axis=1),
        d_z=(coefficient[:, 1:] * (n + 1) * powers[:, :-1]).sum(axis=1),
        d_b=(term * running_b).sum(axis=1),
        d_k=-(term * running_k).sum(axis=1),
    )


def _by_connection(out: Series, at: npt.NDArray[np.intp], z: FloatArray, b: FloatArray, k: FloatArray) -> BoolArray:
    """Put the connection formula's values at `at` where it is well conditioned; say where it was."""
    c = k + 1
    d = c - 1 - b
    w = 1 - z
    # d < 1: the w-series' terms only shrink when b w < (1 - d) / 2. d >= 1: (1 - d)_n passes near zero
    # around n = d - 1, after which the terms are about (w / (1 - w))^d: summed past it
    # where w is small (z > SERIES_MAX_Z). Away from integer d either way (the parts' poles cancel).
    done = np.where(d < 1, b * w < 0.5 * (1 - d), z > SERIES_MAX_Z) & (np.abs(d - np.round(d)) > NEAR_INTEGER)
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
