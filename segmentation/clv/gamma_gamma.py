"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's note "The
Gamma-Gamma Model of Monetary Value"): pure numpy/scipy.

Each purchase of a customer is worth z ~ Gamma(p, nu), and nu ~ Gamma(q, gamma) across customers. The
mean m_x of a customer's x repeat purchases (first purchase excluded) has the density

    f(m_x) = Gamma(px + q) / (Gamma(px) Gamma(q)) gamma^q m_x^(px - 1) x^px / (gamma + m_x x)^(px + q)

fitted by maximum likelihood (analytic gradient). The expected value of a customer's next purchases,

    E[M | m_x, x] = p (gamma + m_x x) / (p x + q - 1),

weighs the population mean p gamma / (q - 1) against the customer's own mean; a customer without a
repeat purchase gets the population mean. It needs q > 1 (otherwise the mean order value is infinite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from segmentation.clv.calibration import Spend
from segmentation.clv.errors import CustomerValueError
from segmentation.clv.mle import Estimate, maximise

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    parameter_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")

    @property
    def parameters(self) -> FloatArray:
        return np.array([self.p, self.q, self.gamma])

    def with_parameters(self, values: FloatArray) -> GammaGamma:
        p, q, gamma = (float(value) for value in values)
        return GammaGamma(p=p, q=q, gamma=gamma)

    def expected_order_value(self, x: FloatArray, mean_value: FloatArray) -> FloatArray:
        """E[M | m_x, x] per customer; x = 0 (or mean_value ignored) gives the population mean."""
        self._check_mean_exists()
        x = np.asarray(x, dtype=np.float64)
        return self.p * (self.gamma + np.asarray(mean_value, dtype=np.float64) * x) / (self.p * x + self.q - 1)

    def order_value_gradient(self, x: FloatArray, mean_value: FloatArray) -> FloatArray:
        """d E[M] / d log(p, q, gamma), shape (3, customers): for intervals by parameter uncertainty."""
        self._check_mean_exists()
        x = np.asarray(x, dtype=np.float64)
        spend = self.gamma + np.asarray(mean_value, dtype=np.float64) * x
        denominator = self.p * x + self.q - 1
        value = self.p * spend / denominator
        return np.stack(
            [
                self.p * (spend / denominator - value * x / denominator),
                self.q * (-value / denominator),
                self.gamma * (self.p / denominator),
            ]
        )

    def population_mean(self) -> float:
        self._check_mean_exists()
        return self.p * self.gamma / (self.q - 1)

    def _check_mean_exists(self) -> None:
        if self.q <= 1:
            raise CustomerValueError(
                "Order values are too spread out for the spend model (Gamma-Gamma q <= 1): it has no mean "
                "order value to predict. Check for extreme order values (a test order, a wholesale customer)."
            )


@dataclass(frozen=True)
class SpendFit:
    model: GammaGamma
    estimate: Estimate
    customers: int
    left_out_no_repeat: int
    left_out_not_positive: int

    @property
    def log_likelihood(self) -> float:
        return self.estimate.log_likelihood


@dataclass(frozen=True)
class _Layout:
    """What every evaluation of a fit reuses: customers per distinct x, and the sums that do not move."""

    xs: FloatArray
    customers_of_x: FloatArray
    sum_x_log_mean: float
    sum_log_mean: float

    @classmethod
    def of(cls, spend: Spend) -> _Layout:
        xs, x_of = np.unique(spend.x, return_inverse=True)
        log_mean = np.log(spend.mean_value)
        return cls(
            xs=xs,
            customers_of_x=np.bincount(x_of.reshape(-1), minlength=len(xs)).astype(np.float64),
            sum_x_log_mean=float(spend.x @ log_mean),
            sum_log_mean=float(log_mean.sum()),
        )


def log_likelihood(parameters: FloatArray, spend: Spend) -> tuple[float, FloatArray]:
    """The Gamma-Gamma log-likelihood of the customers' mean repeat values and its gradient in (p, q, gamma)."""
    return _log_likelihood(parameters, spend, _Layout.of(spend))


def _log_likelihood(parameters: FloatArray, spend: Spend, layout: _Layout) -> tuple[float, FloatArray]:
    p, q, gamma = parameters
    xs, customers_of_x = layout.xs, layout.customers_of_x
    spent = gamma + spend.mean_value * spend.x
    log_spent = np.log(spent)
    exponent = p * spend.x + q
    customers = float(len(spend.x))
    px = p * xs
    total = (
        customers_of_x @ (gammaln(px + q) - gammaln(px) + px * np.log(xs))
        - customers * gammaln(q)
        + customers * q * np.log(gamma)
        + p * layout.sum_x_log_mean
        - layout.sum_log_mean
        - exponent @ log_spent
    )
    gradient = np.array(
        [
            customers_of_x @ (xs * (digamma(px + q) - digamma(px) + np.log(xs)))
            + layout.sum_x_log_mean
            - spend.x @ log_spent,
            customers_of_x @ digamma(px + q) - customers * digamma(q) + customers * np.log(gamma) - log_spent.sum(),
            customers * q / gamma - (exponent / spent).sum(),
        ]
    )
    return float(total), gradient


def fit(spend: Spend) -> SpendFit:
    """Maximum-likelihood Gamma-Gamma on the customers with a positive mean repeat value."""
    if len(spend.x) == 0:
        raise CustomerValueError(
            "No customer has a repeat purchase of positive net value, so there is nothing to learn order values from."
        )
    start = np.array([1.0, 2.0, float(np.mean(spend.mean_value))])
    layout = _Layout.of(spend)
    estimate = maximise(
        lambda parameters: _log_likelihood(parameters, spend, layout),
        start=start,
        names=GammaGamma.parameter_names,
        scale=float(len(spend.x)),
    )
    return SpendFit(
        model=GammaGamma(*(float(value) for value in estimate.values)),
        estimate=estimate,
        customers=len(spend.x),
        left_out_no_repeat=spend.left_out_no_repeat,
        left_out_not_positive=spend.left_out_not_positive,
    )
