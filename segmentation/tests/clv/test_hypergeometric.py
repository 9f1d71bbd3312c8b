"""hypergeometric.series against mpmath at 30 digits, at the (z, b, K) the Pareto/NBD likelihood asks
for: both of its forms (alpha >= beta: b = r + x + shift; beta > alpha: b = s + 1 - shift; K = r + s + x),
from z = 0 to the ridge's z within 1e-7 of 1."""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
import pytest

from segmentation.clv import hypergeometric

mpmath.mp.dps = 30

Z = (0.0, 0.05, 0.52, 0.89, 0.93, 0.999, 1 - 1e-7)
R = (0.55, 1.12)
X = (0, 1, 5, 40)


def _points(alpha_first: bool, s_values: tuple[float, ...]) -> list[tuple[float, float, float]]:
    points = []
    for z, r, s, x, shift in itertools.product(Z, R, s_values, X, (0, 1)):
        b = r + x + shift if alpha_first else s + 1 - shift
        points.append((z, b, r + s + x))
    return points


def _reference(z: float, b: float, k: float) -> dict[str, float]:
    def f(bb: object, kk: object, zz: object) -> object:
        return mpmath.hyp2f1(1, bb, kk + 1, zz)

    zz, bb, kk = mpmath.mpf(z), mpmath.mpf(b), mpmath.mpf(k)
    return {
        "value": float(f(bb, kk, zz)),
        "d_z": float(mpmath.diff(lambda v: f(bb, kk, v), zz)),
        "d_b": float(mpmath.diff(lambda v: f(v, kk, zz), bb)),
        "d_k": float(mpmath.diff(lambda v: f(bb, v, zz), kk)),
    }


@pytest.mark.parametrize(
    ("form", "points"),
    [
        # beta > alpha, s from the no-dropout ridge (1e-6) to many dropouts
        ("beta first", _points(alpha_first=False, s_values=(1e-6, 0.05, 0.61, 3.0))),
        # alpha >= beta; s below 0.01 with shift 1 puts c - 1 - b within 0.01 of -1, scipy's weak spot
        ("alpha first", _points(alpha_first=True, s_values=(0.05, 0.61, 2.7))),
    ],
)
def test_values_and_derivatives_match_mpmath(form: str, points: list[tuple[float, float, float]]) -> None:
    z, b, k = (np.array(column) for column in zip(*points, strict=True))
    found = hypergeometric.series(z, b, k)
    d = k - b
    # Near z = 1 with c - 1 - b within NEAR_INTEGER of an integer, scipy's hyp2f1 answers (as it did
    # for every z past 0.9 before), to its own accuracy (poor at an exact integer: left alone).
    by_scipy = (z > hypergeometric.SERIES_MAX_Z) & (np.abs(d - np.round(d)) <= hypergeometric.NEAR_INTEGER)
    for index, point in enumerate(points):
        reference = _reference(*point)
        value_tolerance, derivative_tolerance = (1e-3, 1e-2) if by_scipy[index] else (1e-10, 1e-6)
        assert found.value[index] == pytest.approx(reference["value"], rel=value_tolerance), (form, point)
        for name in ("d_z", "d_b", "d_k"):
            # Where a derivative is nearly zero against the value, its error is measured against the value.
            scale = max(abs(reference[name]), 1e-9 * abs(reference["value"]))
            error = abs(getattr(found, name)[index] - reference[name])
            assert error <= derivative_tolerance * scale, (form, name, point)
    assert by_scipy.mean() < 0.01


def test_the_no_dropout_ridge_is_computed_by_the_connection_formula_not_scipy() -> None:
    # beta = 1e6 weeks against alpha = 15: z within 1e-4 of 1 at every time, b = s + 1 - shift.
    times = np.linspace(0, 100, 50)
    z = (1e6 - 15) / (1e6 + times)
    for shift in (0, 1):
        b = np.full(len(z), 1e-6 + 1 - shift)
        k = np.full(len(z), 1.12 + 1e-6 + 7)
        out = hypergeometric.Series(*(np.empty(len(z)) for _ in range(4)))
        done = hypergeometric._by_connection(out, np.arange(len(z)), z, b, k)
        assert done.all()
