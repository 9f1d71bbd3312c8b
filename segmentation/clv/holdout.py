"""The holdout check: how well each purchase model, fitted on the calibration period, predicts the
repeat purchases of the same customers in the holdout period that follows; and the model choice.

- Total: the sum over calibration customers of their conditional expected repeat purchases in the
  holdout, against the purchase days they actually had there.
- By calibration repeat purchases (0, 1, ..., 6, 7+): mean predicted against mean actual holdout repeat
  purchases (the conditional-expectation bars of Fader, Hardie & Lee).
- Week by week, cumulative over calibration and holdout (the tracking plot): the sum over calibration
  customers of the unconditional E[X(t)] at the time t since their own first purchase, against their
  actual repeat purchases to date. Weeks count from the first calibration purchase; the last week may
  be short (it ends with the holdout).
- Error: the mean absolute error per customer of the holdout repeat purchases. The model with the lower
  one is chosen (BG/NBD on a tie: it is the simpler and faster to fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from segmentation.clv.calibration import DAYS_PER_WEEK, Calibration, PurchaseDays, calibration_triples, day_date
from segmentation.clv.errors import CustomerValueError
from segmentation.clv.model import TransactionFit
from segmentation.clv.threads import single_threaded

FloatArray = npt.NDArray[np.float64]

TOP_BUCKET = 7
CRITERION = "mean absolute error per customer of the holdout repeat purchases"


@dataclass(frozen=True)
class FrequencyBucket:
    """Customers with a given number of calibration repeat purchases ("7+": seven or more)."""

    calibration_repeat_purchases: str
    customers: int
    actual_mean: float
    predicted_mean: float


@dataclass(frozen=True)
class TrackingWeek:
    week: int
    last_day: date
    in_holdout: bool
    actual: int  # cumulative repeat purchases to the end of the week
    predicted: float


@dataclass(frozen=True)
class ModelCheck:
    model: str
    predicted_repeat_purchases: float
    mean_absolute_error: float
    by_calibration_repeat_purchases: tuple[FrequencyBucket, ...]
    tracking: tuple[TrackingWeek, ...]


@dataclass(frozen=True)
class HoldoutReport:
    """Dates are the first and last days of each period (inclusive)."""

    calibration_first_day: date
    calibration_last_day: date
    holdout_first_day: date
    holdout_last_day: date
    holdout_weeks: float
    customers: int
    actual_repeat_purchases: int
    checks: tuple[ModelCheck, ...]
    chosen: str
    criterion: str = CRITERION

    def check(self, model: str) -> ModelCheck:
        return next(check for check in self.checks if check.model == model)


@single_threaded
def holdout_report(purchases: PurchaseDays, calibration: Calibration, fits: Sequence[TransactionFit]) -> HoldoutReport:
    """Compare each fit's holdout predictions with what the calibration customers did (see the module
    docstring); `calibration` must have a holdout end."""
    if calibration.holdout_x is None or calibration.holdout_end is None:
        raise ValueError("The holdout check needs a calibration with a holdout end.")
    actual = calibration.holdout_x
    bucket = np.minimum(calibration.x, TOP_BUCKET)
    customers_of_bucket = np.bincount(bucket, minlength=TOP_BUCKET + 1)
    actual_of_bucket = np.bincount(bucket, weights=actual, minlength=TOP_BUCKET + 1)
    start = int(calibration.first_day.min())
    weeks, actual_to_date = _actual_by_week(purchases, calibration, start)

    checks = []
    triples = calibration_triples(calibration)
    for fit in fits:
        predicted = fit.model.expected_purchases(np.array([calibration.holdout_weeks]), triples)[0][triples.of_customer]
        if not np.isfinite(predicted).all():
            # A number the check cannot show: no model is chosen on it, nothing is saved from it.
            raise CustomerValueError(
                f"The {fit.model.name} model fitted on this data predicts no finite holdout purchases for "
                f"some customers (parameters {', '.join(f'{value:.4g}' for value in fit.model.parameters)})."
            )
        predicted_of_bucket = np.bincount(bucket, weights=predicted, minlength=TOP_BUCKET + 1)
        buckets = tuple(
            FrequencyBucket(
                calibration_repeat_purchases=f"{number}+" if number == TOP_BUCKET else str(number),
                customers=int(customers_of_bucket[number]),
                actual_mean=round(float(actual_of_bucket[number] / customers_of_bucket[number]), 3),
                predicted_mean=round(float(predicted_of_bucket[number] / customers_of_bucket[number]), 3),
            )
            for number in range(TOP_BUCKET + 1)
            if customers_of_bucket[number]
        )
        expected_to_date = _expected_by_week(fit, calibration, start, weeks)
        tracking = tuple(
            TrackingWeek(
                week=index + 1,
                last_day=day_date(int(last)),
                in_holdout=bool(last >= calibration.calibration_end),
                actual=int(actual_to_date[index]),
                predicted=round(float(expected_to_date[index]), 1),
            )
            for index, last in enumerate(weeks)
        )
        checks.append(
            ModelCheck(
                model=fit.model.name,
                predicted_repeat_purchases=round(float(predicted.sum()), 1),
                mean_absolute_error=round(float(np.mean(np.abs(predicted - actual))), 4),
                by_calibration_repeat_purchases=buckets,
                tracking=tracking,
            )
        )
    errors = [check.mean_absolute_error for check in checks]
    return HoldoutReport(
        calibration_first_day=day_date(start),
        calibration_last_day=day_date(calibration.calibration_end - 1),
        holdout_first_day=day_date(calibration.calibration_end),
        holdout_last_day=day_date(calibration.holdout_end - 1),
        holdout_weeks=round(calibration.holdout_weeks, 2),
        customers=calibration.customers,
        actual_repeat_purchases=int(actual.sum()),
        checks=tuple(checks),
        chosen=checks[int(np.argmin(errors))].model,
    )


def _actual_by_week(
    purchases: PurchaseDays, calibration: Calibration, start: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The last day of each week from `start` to the holdout end, and the calibration customers'
    cumulative repeat purchase days by then."""
    assert calibration.holdout_end is not None
    end = calibration.holdout_end
    last_days = np.minimum(np.arange(start + 6, end - 1 + 7, 7, dtype=np.int64), end - 1)
    counts = np.diff(purchases.offsets)[calibration.customer]
    days = purchases.days[_positions(purchases.offsets, calibration.customer, counts)].astype(np.int64)
    first = np.repeat(calibration.first_day.astype(np.int64), counts)
    repeat = (days > first) & (days < end)
    by_day = np.bincount(days[repeat] - start, minlength=end - start)
    return last_days, np.cumsum(by_day)[last_days - start]


def _positions(
    offsets: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Positions in the CSR arrays of every purchase day of the given rows (no Python loop)."""
    starts = np.repeat(offsets[:-1][rows], counts)
    rank = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts + rank


def _expected_by_week(
    fit: TransactionFit, calibration: Calibration, start: int, last_days: npt.NDArray[np.int64]
) -> FloatArray:
    """Sum over calibration customers of E[X(t)] at each week's last day, t from their first purchase:
    a convolution of the customers born each day with E[X] at every whole number of days."""
    span = int(last_days[-1]) - start + 1
    born = np.bincount(calibration.first_day.astype(np.int64) - start, minlength=span)
    expected_at_age = fit.model.unconditional_purchases(np.arange(span) / DAYS_PER_WEEK)
    return np.convolve(born, expected_at_age)[last_days - start]
