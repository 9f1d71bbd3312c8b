"""Maximum likelihood shared by the models: L-BFGS-B on log-parameters (every parameter is positive),
standard errors from the inverse Hessian of the negative log-likelihood.

The Hessian is taken in log-parameters by forward differences of the analytic gradient (relative error
~1e-4 in the standard errors, half the evaluations of central ones). At the maximum
the gradient is zero, so the covariance in the original parameters is D H^-1 D with D = diag(parameters):
the inverse Hessian in the original parameters, without a second set of differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from segmentation.clv.threads import single_threaded

FloatArray = npt.NDArray[np.float64]
# Parameters (original units) -> (log-likelihood, its gradient in the original parameters).
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

LOG_BOUND = 25.0  # parameters between e^-25 and e^25: wide enough for money in any currency
HESSIAN_STEP = 1e-4


@dataclass(frozen=True)
class Estimate:
    names: tuple[str, ...]
    values: FloatArray
    log_likelihood: float
    log_covariance: FloatArray  # covariance of the log-parameters (Laplace approximation)
    standard_errors: FloatArray  # original units; NaN when the Hessian is not positive definite
    converged: bool
    iterations: int


@single_threaded
def maximise(objective: Objective, *, start: FloatArray, names: tuple[str, ...], scale: float) -> Estimate:
    """Maximise `objective` from `start`. `scale` (the number of customers) divides the objective so the
    optimiser's tolerances mean the same at 2,000 and at 200,000 customers."""
    from scipy.optimize import minimize

    def negative(log_parameters: FloatArray) -> tuple[float, FloatArray]:
        parameters = np.exp(log_parameters)
        log_likelihood, gradient = objective(parameters)
        if not np.isfinite(log_likelihood) or not np.all(np.isfinite(gradient)):
            # Far from the data (a probe of the line search): a wall, not a NaN the optimiser cannot read.
            return 1e12, np.zeros_like(log_parameters)
        return -log_likelihood / scale, -(gradient * parameters) / scale

    result = minimize(
        negative,
        np.log(np.asarray(start, dtype=np.float64)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(names),
        options={"maxiter": 2_000, "ftol": 1e-13, "gtol": 1e-8, "maxcor": 20},
    )
    log_parameters = result.x
    values = np.exp(log_parameters)
    log_likelihood, _ = objective(values)
    log_covariance = _log_covariance(negative, log_parameters, scale)
    with np.errstate(invalid="ignore"):
        standard_errors = values * np.sqrt(np.diag(log_covariance))
    return Estimate(
        names=names,
        values=values,
        log_likelihood=float(log_likelihood),
        log_covariance=log_covariance,
        standard_errors=standard_errors,
        converged=bool(result.success) or _gradient_small(negative, log_parameters),
        iterations=int(result.nit),
    )


def _gradient_small(negative: Callable[[FloatArray], tuple[float, FloatArray]], at: FloatArray) -> bool:
    # L-BFGS-B reports an "abnormal line search" when it cannot improve on a point that is already optimal.
    return bool(np.max(np.abs(negative(at)[1])) < 1e-6)


def _log_covariance(
    negative: Callable[[FloatArray], tuple[float, FloatArray]], at: FloatArray, scale: float
) -> FloatArray:
    size = len(at)
    hessian = np.empty((size, size))
    centre = negative(at)[1]
    for column in range(size):
        step = np.zeros(size)
        step[column] = HESSIAN_STEP
        hessian[:, column] = (negative(at + step)[1] - centre) / HESSIAN_STEP
    hessian = (hessian + hessian.T) / 2 * scale
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return np.full((size, size), np.nan)
    return np.asarray(np.linalg.inv(hessian), dtype=np.float64)
