"""What the two purchase models share: the interface the holdout check and the predictions use, and a fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from segmentation.clv.calibration import Triples
from segmentation.clv.mle import Estimate

FloatArray = npt.NDArray[np.float64]


class TransactionModel(Protocol):
    """A repeat-purchase model with its parameters (time in weeks). Predictions are per triple (callers
    map them to customers with `Triples.of_customer`)."""

    name: ClassVar[str]  # "bgnbd" or "pareto_nbd"
    parameter_names: ClassVar[tuple[str, ...]]

    @property
    def parameters(self) -> FloatArray: ...

    def with_parameters(self, values: FloatArray) -> TransactionModel: ...

    def p_alive(self, triples: Triples) -> FloatArray:
        """Probability that the customer is still active at the end of their observation (T)."""
        ...

    def expected_purchases(self, horizons: FloatArray, triples: Triples) -> FloatArray:
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
