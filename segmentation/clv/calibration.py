"""Per-customer inputs of the customer-value models at a calibration end: pure numpy, no database.

Input: per customer, the distinct days with a purchase (days since 2000-01-01, sorted, one entry a day)
and the net value of each such day, as CSR arrays (`PurchaseDays`).

Definitions (time in weeks = days / 7, as the papers):
- a customer is in the calibration when their first purchase day is before the calibration end
  (exclusive); customers who first bought on or after it are not;
- x: repeat purchases = distinct purchase days before the calibration end, after the first;
- t_x: time from the first purchase to the last one before the calibration end (0 when x = 0);
- T: time from the first purchase to the last day of the calibration period (the calibration end minus
  one day), so a purchase on that last day has t_x = T, as in Fader, Hardie & Lee's CDNOW data
  (customer 1: x = 2, t_x = 30.43, T = 38.86 for a calibration ending on 1997-09-30);
- holdout repeat purchases: purchase days in [calibration end, holdout end) of calibration customers;
- Gamma-Gamma input: the mean net value of the repeat purchase days (the first day left out) of
  customers with x >= 1 whose mean is positive; the others are counted and reported, not fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt

from segmentation.clv.errors import CustomerValueError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.intp]

EPOCH = date(2000, 1, 1)
DAYS_PER_WEEK = 7.0
MIN_CUSTOMERS = 100
MIN_HOLDOUT_DAYS = 90


def day_number(day: date) -> int:
    """Days since 2000-01-01, the day numbers of `PurchaseDays.days`."""
    return (day - EPOCH).days


def day_date(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


@dataclass(frozen=True)
class PurchaseDays:
    """Per customer (row i), the purchase days days[offsets[i]:offsets[i + 1]], strictly increasing, and
    the net value of each. A customer may have no purchase day (only returns): they are never modelled."""

    offsets: IntArray
    days: npt.NDArray[np.int32]
    values: FloatArray

    def __post_init__(self) -> None:
        offsets, days, values = self.offsets, self.days, self.values
        if offsets.ndim != 1 or len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(days):
            raise ValueError("offsets must start at 0 and end at the number of purchase days.")
        if len(values) != len(days):
            raise ValueError("days and values must have the same length.")
        if np.any(np.diff(offsets) < 0):
            raise ValueError("offsets must not decrease.")
        steps = np.diff(days.astype(np.int64))
        starts = np.zeros(len(days), dtype=bool)
        starts[offsets[1:-1][offsets[1:-1] < len(days)]] = True
        if np.any((steps <= 0) & ~starts[1:]):
            raise ValueError("each customer's purchase days must be distinct and sorted.")

    @classmethod
    def from_arrays(cls, offsets: npt.ArrayLike, days: npt.ArrayLike, values: npt.ArrayLike) -> PurchaseDays:
        return cls(
            offsets=np.asarray(offsets, dtype=np.int64),
            days=np.asarray(days, dtype=np.int32),
            values=np.asarray(values, dtype=np.float64),
        )

    @property
    def customers(self) -> int:
        return len(self.offsets) - 1

    def days_before(self, end: int) -> IntArray:
        """Per customer, how many of their purchase days are before day `end`."""
        before = np.concatenate([[0], np.cumsum(self.days < end, dtype=np.int64)])
        return before[self.offsets[1:]] - before[self.offsets[:-1]]


@dataclass(frozen=True)
class Calibration:
    """The calibration customers' summaries (arrays aligned with `customer`, the rows of the input)."""

    customer: IntArray
    calibration_end: int
    holdout_end: int | None
    first_day: npt.NDArray[np.int32]
    x: IntArray
    t_x_days: IntArray
    T_days: IntArray
    holdout_x: IntArray | None

    @property
    def t_x(self) -> FloatArray:
        return self.t_x_days / DAYS_PER_WEEK

    @property
    def T(self) -> FloatArray:
        return self.T_days / DAYS_PER_WEEK

    @property
    def customers(self) -> int:
        return len(self.customer)

    @cached_property
    def triples(self) -> Triples:
        """The distinct (x, t_x, T) with their counts (computed once)."""
        return unique_triples(self.x, self.t_x_days, self.T_days)

    @property
    def holdout_weeks(self) -> float:
        if self.holdout_end is None:
            raise ValueError("This calibration has no holdout period.")
        return (self.holdout_end - self.calibration_end) / DAYS_PER_WEEK


def calibrate(purchases: PurchaseDays, *, calibration_end: int, holdout_end: int | None = None) -> Calibration:
    """x, t_x and T of every customer who bought before `calibration_end` (see the module docstring), and
    their purchase days in the holdout [calibration_end, holdout_end) when a holdout end is given."""
    if holdout_end is not None and holdout_end <= calibration_end:
        raise ValueError("The holdout must end after the calibration end.")
    in_calibration = purchases.days_before(calibration_end)
    customer = np.flatnonzero(in_calibration > 0)
    starts = purchases.offsets[:-1][customer]
    first = purchases.days[starts]
    last = purchases.days[starts + in_calibration[customer] - 1]
    holdout_x = None
    if holdout_end is not None:
        holdout_x = purchases.days_before(holdout_end)[customer] - in_calibration[customer]
    return Calibration(
        customer=customer.astype(np.int64),
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        first_day=first,
        x=in_calibration[customer] - 1,
        t_x_days=(last - first).astype(np.int64),
        T_days=(calibration_end - 1 - first).astype(np.int64),
        holdout_x=holdout_x,
    )


def check_describable(calibration: Calibration, purchases: PurchaseDays) -> None:
    """Raise CustomerValueError when the models cannot describe the data."""
    end = day_date(calibration.calibration_end).isoformat()
    if not np.any(np.diff(purchases.offsets) > 1):
        raise CustomerValueError(
            "No customer bought on more than one day, so there is no repeat buying to model (a file with one "
            "purchase per customer, or without customer ids, looks like this). Customer value needs repeat customers."
        )
    if calibration.customers < MIN_CUSTOMERS:
        raise CustomerValueError(
            f"Customer value needs at least {MIN_CUSTOMERS} customers who bought before {end}; "
            f"the data has {calibration.customers}. Import more transactions or choose a later calibration end."
        )
    if not np.any(calibration.x > 0):
        raise CustomerValueError(
            f"No customer bought a second time before {end}, so the models have no repeat purchases to learn "
            "from. Choose a later calibration end."
        )


@dataclass(frozen=True)
class Triples:
    """The distinct (x, t_x, T) of a calibration with how many customers share each (fits use these: the
    same likelihood, far fewer rows), and for each customer the index of their triple. The models also
    predict on triples; the distinct values and pairs they group by are computed once, on first use."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    of_customer: IntArray

    @classmethod
    def of(cls, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> Triples:
        """Customers as given (weeks), one row each, e.g. a hand-built set."""
        x, t_x, T = (np.atleast_1d(np.asarray(values, dtype=np.float64)) for values in (x, t_x, T))
        return cls(x=x, t_x=t_x, T=T, weight=np.ones(len(x)), of_customer=np.arange(len(x), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.x)

    @cached_property
    def distinct_x(self) -> tuple[FloatArray, IndexArray]:
        """The distinct x and, per triple, the index of its x."""
        return _distinct(self.x)

    @cached_property
    def distinct_t_x(self) -> tuple[FloatArray, IndexArray]:
        return _distinct(self.t_x)

    @cached_property
    def distinct_T(self) -> tuple[FloatArray, IndexArray]:
        return _distinct(self.T)

    @cached_property
    def x_T_pairs(self) -> Pairs:
        return Pairs.of(self.distinct_T[1], self.distinct_x[1], len(self.distinct_x[0]))

    @cached_property
    def x_t_x_pairs(self) -> Pairs:
        return Pairs.of(self.distinct_t_x[1], self.distinct_x[1], len(self.distinct_x[0]))


def _distinct(values: FloatArray) -> tuple[FloatArray, IndexArray]:
    distinct, index = np.unique(values, return_inverse=True)
    return distinct, index.reshape(-1)


@dataclass(frozen=True)
class Pairs:
    """Distinct (time, x) pairs of a set of triples: each pair's index into the distinct times and the
    distinct x, and each triple's pair."""

    time: IndexArray
    x: IndexArray
    of_triple: IndexArray

    @classmethod
    def of(cls, time_of: IndexArray, x_of: IndexArray, xs: int) -> Pairs:
        keys, pair_of = np.unique(time_of.astype(np.int64) * xs + x_of, return_inverse=True)
        return cls(time=(keys // xs).astype(np.intp), x=(keys % xs).astype(np.intp), of_triple=pair_of.reshape(-1))


def unique_triples(x: IntArray, t_x_days: IntArray, T_days: IntArray) -> Triples:
    spans = int(max(T_days.max(initial=0), t_x_days.max(initial=0))) + 1
    keys = (x.astype(np.int64) * spans + t_x_days) * spans + T_days
    distinct, of_customer, counts = np.unique(keys, return_inverse=True, return_counts=True)
    T_unique = distinct % spans
    t_x_unique = (distinct // spans) % spans
    x_unique = distinct // (spans * spans)
    return Triples(
        x=x_unique.astype(np.float64),
        t_x=t_x_unique / DAYS_PER_WEEK,
        T=T_unique / DAYS_PER_WEEK,
        weight=counts.astype(np.float64),
        of_customer=of_customer.astype(np.int64).reshape(-1),
    )


def calibration_triples(calibration: Calibration) -> Triples:
    return calibration.triples


@dataclass(frozen=True)
class Spend:
    """Gamma-Gamma input: for the customers it fits (`customer`, rows of the input), their number of
    repeat purchases and the mean net value of those; and who was left out, and why."""

    customer: IntArray
    x: FloatArray
    mean_value: FloatArray
    left_out_no_repeat: int
    left_out_not_positive: int


def repeat_spend(purchases: PurchaseDays, calibration: Calibration) -> Spend:
    """Mean net value of each calibration customer's repeat purchase days (first day excluded)."""
    offsets = purchases.offsets
    in_calibration = calibration.x + 1
    before_end = np.where(purchases.days < calibration.calibration_end, purchases.values, 0.0)
    # One running sum over every customer: a difference of its ends is off by ~1e-16 of the grand total
    # (a thousandth of a cent at a billion in sales), and costs one pass instead of a loop over customers.
    value_before = np.concatenate([[0.0], np.cumsum(before_end)])
    starts = offsets[:-1][calibration.customer]
    totals = value_before[starts + in_calibration] - value_before[starts]
    repeat_total = totals - purchases.values[starts]
    repeaters = calibration.x > 0
    mean = np.divide(repeat_total, calibration.x, out=np.zeros(len(repeat_total)), where=repeaters)
    kept = repeaters & (mean > 0)
    return Spend(
        customer=calibration.customer[kept],
        x=calibration.x[kept].astype(np.float64),
        mean_value=mean[kept],
        left_out_no_repeat=int((~repeaters).sum()),
        left_out_not_positive=int((repeaters & ~kept).sum()),
    )


def default_calibration_end(purchases: PurchaseDays, *, end: int) -> int:
    """The calibration end that holds out the last quarter of the period from the first purchase to `end`
    (exclusive), and at least 90 days."""
    if len(purchases.days) == 0:
        raise CustomerValueError("There are no purchases yet: import transactions first.")
    period = end - int(purchases.days.min())
    return end - max(MIN_HOLDOUT_DAYS, -(-period // 4))
