"""One customer-value fit: hold out the latest period, fit both purchase models and the spend model on
the calibration period, check them on the holdout, choose the model with the lower holdout error, then
refit the chosen model and the spend model on all data (to the holdout end) for the predictions."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from segmentation.clv import bgnbd, gamma_gamma, pareto_nbd
from segmentation.clv.calibration import (
    Calibration,
    PurchaseDays,
    calibrate,
    calibration_triples,
    check_describable,
    day_date,
    repeat_spend,
)
from segmentation.clv.gamma_gamma import SpendFit
from segmentation.clv.holdout import HoldoutReport, holdout_report
from segmentation.clv.mle import Estimate
from segmentation.clv.model import TransactionFit
from segmentation.clv.value import DEFAULT_DISCOUNT_RATE, DEFAULT_HORIZON_DAYS, CustomerValues, customer_values

TIME_UNIT = "weeks"


def round_significant(value: float, digits: int = 5) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


@dataclass(frozen=True)
class ParameterSummary:
    name: str
    value: float
    standard_error: float | None  # None when the Hessian was not positive definite


@dataclass(frozen=True)
class ModelSummary:
    """A fitted model for reading: parameters to 5 significant digits, standard errors to 3, the
    log-likelihood to 2 decimals; time in weeks (alpha and beta are in weeks)."""

    model: str
    parameters: tuple[ParameterSummary, ...]
    log_likelihood: float
    customers: int
    converged: bool
    time_unit: str = TIME_UNIT

    def as_dict(self) -> dict[str, Any]:
        return {
            **{parameter.name: parameter.value for parameter in self.parameters},
            "standard_errors": {parameter.name: parameter.standard_error for parameter in self.parameters},
            "log_likelihood": self.log_likelihood,
            "customers": self.customers,
            "converged": self.converged,
            "time_unit": self.time_unit,
        }


def summarise(model: str, estimate: Estimate, customers: int) -> ModelSummary:
    return ModelSummary(
        model=model,
        parameters=tuple(
            ParameterSummary(
                name=name,
                value=round_significant(float(value)),
                standard_error=round_significant(float(error), 3) if np.isfinite(error) else None,
            )
            for name, value, error in zip(estimate.names, estimate.values, estimate.standard_errors, strict=True)
        ),
        log_likelihood=round(estimate.log_likelihood, 2),
        customers=customers,
        converged=estimate.converged,
    )


@dataclass(frozen=True)
class CustomerValueFit:
    calibration_end: int  # day numbers, exclusive ends
    holdout_end: int
    bgnbd: TransactionFit  # on the calibration period
    pareto_nbd: TransactionFit  # on the calibration period
    calibration_spend: SpendFit  # on the calibration period
    holdout: HoldoutReport
    chosen: str  # "bgnbd" or "pareto_nbd": lower holdout mean absolute error per customer
    transactions: TransactionFit  # the chosen model on all data up to the holdout end
    spend: SpendFit  # Gamma-Gamma on all data up to the holdout end
    everything: Calibration  # the summaries of all data up to the holdout end

    def customer_values(
        self,
        purchases: PurchaseDays,
        *,
        margin: float,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        annual_discount_rate: float = DEFAULT_DISCOUNT_RATE,
    ) -> CustomerValues:
        """Per-customer predictions as of the holdout end from the refitted models (see value.py)."""
        return customer_values(
            purchases,
            as_of=self.holdout_end,
            transactions=self.transactions,
            spend=self.spend,
            margin=margin,
            horizon_days=horizon_days,
            annual_discount_rate=annual_discount_rate,
            calibration=self.everything,
        )

    @property
    def as_of(self) -> date:
        """The last day of the data the predictions use."""
        return day_date(self.holdout_end - 1)

    def as_dict(self) -> dict[str, Any]:
        """Everything for reading (JSON-ready, rounded). The model sections are the calibration fits the
        holdout checked; `refit` holds the chosen model and the spend model on all data."""
        chosen_check = self.holdout.check(self.chosen)
        return {
            "bgnbd": summarise("bgnbd", self.bgnbd.estimate, self.bgnbd.customers).as_dict(),
            "pareto_nbd": summarise("pareto_nbd", self.pareto_nbd.estimate, self.pareto_nbd.customers).as_dict(),
            "gamma_gamma": _spend_dict(self.calibration_spend),
            "holdout": {
                "calibration": [
                    self.holdout.calibration_first_day.isoformat(),
                    self.holdout.calibration_last_day.isoformat(),
                ],
                "holdout": [self.holdout.holdout_first_day.isoformat(), self.holdout.holdout_last_day.isoformat()],
                "customers": self.holdout.customers,
                "actual_repeat_purchases": self.holdout.actual_repeat_purchases,
                "predicted_repeat_purchases": chosen_check.predicted_repeat_purchases,
                "mean_absolute_error": chosen_check.mean_absolute_error,
                "by_model": {
                    check.model: {
                        "predicted_repeat_purchases": check.predicted_repeat_purchases,
                        "mean_absolute_error": check.mean_absolute_error,
                        "by_calibration_repeat_purchases": [
                            dataclasses.asdict(bucket) for bucket in check.by_calibration_repeat_purchases
                        ],
                        "tracking": [
                            {**dataclasses.asdict(week), "last_day": week.last_day.isoformat()}
                            for week in check.tracking
                        ],
                    }
                    for check in self.holdout.checks
                },
                "criterion": self.holdout.criterion,
            },
            "chosen": self.chosen,
            "refit": {
                "as_of": self.as_of.isoformat(),
                self.chosen: summarise(self.chosen, self.transactions.estimate, self.transactions.customers).as_dict(),
                "gamma_gamma": _spend_dict(self.spend),
            },
        }


def _spend_dict(spend: SpendFit) -> dict[str, Any]:
    return {
        **summarise("gamma_gamma", spend.estimate, spend.customers).as_dict(),
        "left_out_no_repeat_purchase": spend.left_out_no_repeat,
        "left_out_not_positive": spend.left_out_not_positive,
    }


def fit_customer_value(purchases: PurchaseDays, *, calibration_end: int, holdout_end: int) -> CustomerValueFit:
    """Fit, check on the holdout [calibration_end, holdout_end), choose, refit on all data before
    `holdout_end`. Raises CustomerValueError when the models cannot describe the data."""
    calibration = calibrate(purchases, calibration_end=calibration_end, holdout_end=holdout_end)
    check_describable(calibration, purchases)
    triples = calibration_triples(calibration)
    fits = {"bgnbd": bgnbd.fit(triples)}
    r, alpha = fits["bgnbd"].model.parameters[:2]
    # Pareto/NBD's purchase process is BG/NBD's: starting from its r and alpha saves iterations.
    fits["pareto_nbd"] = pareto_nbd.fit(triples, start=np.array([r, alpha, 1.0, alpha]))
    calibration_spend = gamma_gamma.fit(repeat_spend(purchases, calibration))
    report = holdout_report(purchases, calibration, [fits["bgnbd"], fits["pareto_nbd"]])

    everything = calibrate(purchases, calibration_end=holdout_end)
    check_describable(everything, purchases)
    all_triples = calibration_triples(everything)
    # The calibration fit is close to the refit's answer: starting there saves most iterations.
    refit = bgnbd.fit if report.chosen == "bgnbd" else pareto_nbd.fit
    transactions = refit(all_triples, start=fits[report.chosen].model.parameters)
    return CustomerValueFit(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        bgnbd=fits["bgnbd"],
        pareto_nbd=fits["pareto_nbd"],
        calibration_spend=calibration_spend,
        holdout=report,
        chosen=report.chosen,
        transactions=transactions,
        spend=gamma_gamma.fit(repeat_spend(purchases, everything)),
        everything=everything,
    )
