"""The customer-value fit a refit makes with its run: the models of segmentation.clv fitted on the
customers' purchase days from the read model, checked on a holdout, the chosen one refitted on all
data; each customer's predicted value written with one binary COPY, the fit and per-segment totals
saved on the run (`CustomerValueModel`)."""

from __future__ import annotations

import datetime
import pickle
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection

from analytics.warehouse import customer_histories_get
from retail_platform.binary_copy import SIGNATURE, TRAILER
from segmentation import clv
from segmentation.activity import CustomerPurchaseDays, purchase_days
from segmentation.models import CustomerValue, CustomerValueModel, SegmentationRun

# The simulator's default margin when the data carries no cost (campaigns.simulation uses the same).
DEFAULT_MARGIN = 0.40

_VALUE_COLUMNS = (
    "run_id",
    "customer_id",
    "frequency",
    "recency_days",
    "tenure_days",
    "p_alive",
    "expected_purchases",
    "expected_order_value",
    "clv",
)
_VALUE_RECORD = np.dtype(
    [
        ("fields", ">i2"),
        *[
            item
            for name, kind in (
                ("run_id", ">i8"),
                ("customer_id", ">i8"),
                ("frequency", ">i4"),
                ("recency_days", ">i4"),
                ("tenure_days", ">i4"),
                ("p_alive", ">f8"),
                ("expected_purchases", ">f8"),
                ("expected_order_value", ">f8"),
                ("clv", ">f8"),
            )
            for item in ((f"{name}_length", ">i4"), (name, kind))
        ],
    ]
)


def margin_of(*, cost_cents: int, net_cents: int) -> tuple[float, str]:
    """The gross margin the value is computed with, and where it comes from."""
    if net_cents > 0 and cost_cents > 0:
        margin = min(1.0, max(0.0, 1 - cost_cents / net_cents))
        return margin, "1 - cost / net sales over the purchase lines that carry cost"
    return DEFAULT_MARGIN, "the simulator's default margin (the data carries no cost)"


@dataclass(frozen=True)
class ValueFit:
    """A customer-value fit made from the purchase days alone (no database), or why there is none."""

    fit: clv.CustomerValueFit | None
    error: str
    seconds: float


def customer_value_fit(
    *, purchases: CustomerPurchaseDays, as_of: datetime.date, calibration_end: datetime.date | None = None
) -> ValueFit:
    """Fit and check on the holdout (pure: the refit runs it on a thread while it fits the segments)."""
    started = time.perf_counter()
    as_of_day = clv.day_number(as_of)
    end = (
        clv.day_number(calibration_end)
        if calibration_end
        else clv.default_calibration_end(purchases.days, end=as_of_day)
    )
    try:
        fit = clv.fit_customer_value(purchases.days, calibration_end=end, holdout_end=as_of_day)
    except clv.CustomerValueError as error:
        return ValueFit(fit=None, error=str(error), seconds=round(time.perf_counter() - started, 3))
    return ValueFit(fit=fit, error="", seconds=round(time.perf_counter() - started, 3))


def customer_value_save(
    *,
    run: SegmentationRun,
    value_fit: ValueFit,
    purchases: CustomerPurchaseDays,
    margin: float,
    margin_source: str,
    labels: dict[str, tuple[npt.NDArray[np.int64], Sequence[str]]],
) -> CustomerValueModel:
    """Each customer's values and the fit, saved with the run. `labels`: per kind ("kmeans", "rfm"), the
    customer pks and their segment names, for the per-segment totals. Data the models cannot describe
    saves the reason instead of numbers."""
    started = time.perf_counter()
    fit = value_fit.fit
    if fit is None:
        return CustomerValueModel.objects.create(
            run=run,
            status=CustomerValueModel.Status.NOT_FITTED,
            message=value_fit.error,
            margin=margin,
            margin_source=margin_source,
            seconds=value_fit.seconds,
        )
    values = fit.customer_values(purchases.days, margin=margin)
    customer_ids = purchases.customer_ids[values.customer]
    _values_copy(run.pk, customer_ids, values)
    segments = {
        kind: [asdict(item) for item in clv.segment_values(values, _labels_of(customer_ids, *labelled))]
        for kind, labelled in labels.items()
    }
    return CustomerValueModel.objects.create(
        run=run,
        status=CustomerValueModel.Status.FITTED,
        chosen=fit.chosen,
        calibration_end=clv.day_date(fit.calibration_end),
        holdout_end=clv.day_date(fit.holdout_end),
        horizon_days=values.horizon_days,
        annual_discount_rate=values.annual_discount_rate,
        margin=margin,
        margin_source=margin_source,
        report=fit.as_dict(),
        segments=segments,
        fitted=pickle.dumps((fit.transactions, fit.spend), protocol=pickle.HIGHEST_PROTOCOL),
        seconds=round(value_fit.seconds + time.perf_counter() - started, 3),
    )


def _labels_of(
    customer_ids: npt.NDArray[np.int64], labelled_ids: npt.NDArray[np.int64], names: Sequence[str]
) -> list[str]:
    """The segment of each customer (labelled_ids sorted, as the refit's frame is)."""
    position = np.searchsorted(labelled_ids, customer_ids)
    names_array = np.asarray(names, dtype=object)
    return list(names_array[position])


def _values_copy(run_id: int, customer_ids: npt.NDArray[np.int64], values: clv.CustomerValues) -> None:
    """COPY the customers' values in binary, encoded by numpy (fixed-width rows)."""
    rows = np.zeros(len(customer_ids), dtype=_VALUE_RECORD)
    rows["fields"] = len(_VALUE_COLUMNS)
    columns = {
        "run_id": run_id,
        "customer_id": customer_ids,
        "frequency": values.repeat_purchases,
        "recency_days": values.first_to_last_days,
        "tenure_days": values.tenure_days,
        "p_alive": values.p_alive,
        "expected_purchases": values.expected_purchases,
        "expected_order_value": values.expected_order_value,
        "clv": values.clv,
    }
    for name, column in columns.items():
        rows[f"{name}_length"] = _VALUE_RECORD[name].itemsize
        rows[name] = column
    statement = f"COPY {CustomerValue._meta.db_table} ({', '.join(_VALUE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(SIGNATURE + rows.tobytes() + TRAILER)


def customer_value_check(
    *, calibration_end: datetime.date | None = None, holdout_end: datetime.date | None = None
) -> clv.CustomerValueFit:
    """Fit the customer-value models on the current data with a chosen calibration and holdout (by
    default those of a refit: the holdout is the last quarter of the period, at least 90 days, up to the
    day after the last line), without saving anything. Raises CustomerValueError when the data cannot be
    described, ValueError for periods that do not fit the data."""
    histories = customer_histories_get()
    if histories.last_day is None:
        raise clv.CustomerValueError("There are no transactions yet: import a file first.")
    end = holdout_end or clv.day_date(histories.last_day + 1)
    purchases = purchase_days(histories, as_of=end)
    as_of_day = clv.day_number(end)
    start = (
        clv.day_number(calibration_end)
        if calibration_end
        else clv.default_calibration_end(purchases.days, end=as_of_day)
    )
    if start >= as_of_day:
        raise ValueError(f"The calibration must end before the holdout does ({clv.day_date(as_of_day).isoformat()}).")
    return clv.fit_customer_value(purchases.days, calibration_end=start, holdout_end=as_of_day)
