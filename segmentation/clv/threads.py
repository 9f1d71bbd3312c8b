"""One BLAS thread for the customer-value computations (performance plumbing, kept apart from the models).

The likelihoods end in matrix-vector products that numpy hands to OpenBLAS, which starts a thread per
core. When other processes hold the cores those threads spin waiting for each other: one BG/NBD
likelihood of 72,000 triples took 30-50 ms instead of 3.6 ms on this 2-core machine at load average 4,
and a fit of 120,000 customers 2.4 s instead of 0.15 s. The products are small, so one thread loses
nothing when the machine is idle. threadpoolctl caps only the libraries loaded when it runs: SciPy's
optimiser and linear algebra are imported here first, so their BLAS is capped too."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import scipy.linalg
import scipy.optimize  # noqa: F401
from threadpoolctl import threadpool_limits

P = ParamSpec("P")
R = TypeVar("R")


def single_threaded(function: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(function)
    def capped(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1):
            return function(*args, **kwargs)

    return capped
