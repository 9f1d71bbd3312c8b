"""Customer value: expected purchases, P(alive) and lifetime value (issue 14). Pure numpy/scipy, no database.

The refit hands `PurchaseDays` (per customer, the distinct purchase days and each day's net value) to
`fit_customer_value`, which checks both purchase models on a holdout and refits the chosen one on all
data; `customer_values` then predicts per customer and `segment_values` sums per segment with intervals.
Data the models cannot describe raises `CustomerValueError` with a message for the user.
"""

from segmentation.clv.calibration import (
    Calibration,
    PurchaseDays,
    calibrate,
    day_date,
    day_number,
    default_calibration_end,
)
from segmentation.clv.errors import CustomerValueError
from segmentation.clv.fit import CustomerValueFit, ModelSummary, fit_customer_value
from segmentation.clv.holdout import HoldoutReport
from segmentation.clv.value import CustomerValues, SegmentValue, customer_values, segment_values

__all__ = [
    "Calibration",
    "CustomerValueError",
    "CustomerValueFit",
    "CustomerValues",
    "HoldoutReport",
    "ModelSummary",
    "PurchaseDays",
    "SegmentValue",
    "calibrate",
    "customer_values",
    "day_date",
    "day_number",
    "default_calibration_end",
    "fit_customer_value",
    "segment_values",
]
