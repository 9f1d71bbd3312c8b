"""What the two purchase models share: the interface the holdout check and the predictions use, and a fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from segmentation.clv.mle import Estimate

FloatArray = npt.NDArray[np.float64]


class TransactionModel(Protocol):
    """A repeat-purchase model with its parameters (time in weeks)."""

    name: str  # "bgnbd" or "pareto_nbd"
    parameter_names: tuple[str, ...]

    @property
    def parameters(self) -> FloatArray: ...

    def with_parameters(self, values: FloatArray) -> TransactionModel: ...

    def p_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:  # noqa: N803
        """Probability that each customer is still active at the end of their observation."""
        ...

    def expected_purchases(
        self,
        horizons: FloatArray,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,  # noqa: N803
    ) -> FloatArray:
        """Conditional expected repeat purchases in (T, T + horizon], one row per horizon (weeks)."""
        ...

    def unconditional_purchases(self, t: FloatArray) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a new customer within t weeks of their first purchase."""
        ...


@dataclass(frozen=True)
class TransactionFit:
    model: TransactionModel
    estimate: Estimate
    customers: int

    @property
    def log_likelihood(self) -> float:
        return self.estimate.log_likelihood


def unique_pairs(x: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:  # noqa: N803
    """The distinct (x, T) pairs and, per element, the index of its pair (one complex sort)."""
    distinct, inverse = np.unique(np.asarray(x) + 1j * np.asarray(T), return_inverse=True)
    return distinct.real.copy(), distinct.imag.copy(), inverse.reshape(-1)
