"""Segmentation writes: the refit (a new run, `refit.py`), its customer assignments (`assignments.py`)
and the summaries saved with it (`summaries.py`), making a run active and scoring new customers
(`runs.py`)."""

from segmentation.services.assignments import assignment_copy_data
from segmentation.services.refit import DEFAULT_KEEP_ASSIGNMENTS, segmentation_run_create
from segmentation.services.runs import CustomerScore, segmentation_customers_score, segmentation_run_activate
from segmentation.services.summaries import segmentation_run_summaries_save

__all__ = [
    "DEFAULT_KEEP_ASSIGNMENTS",
    "CustomerScore",
    "assignment_copy_data",
    "segmentation_customers_score",
    "segmentation_run_activate",
    "segmentation_run_create",
    "segmentation_run_summaries_save",
]
