"""The segmentation API: runs, segments and their customers (`segments.py`) and the customers' predicted
value (`customer_value.py`)."""

from segmentation.apis.customer_value import ClvModelApi, CustomerValueApi
from segmentation.apis.segments import (
    CategoryBySegmentApi,
    CustomerExportApi,
    CustomerRfmSegmentsApi,
    MovementApi,
    RefitApi,
    RunsApi,
    SegmentsApi,
)

__all__ = [
    "CategoryBySegmentApi",
    "ClvModelApi",
    "CustomerExportApi",
    "CustomerRfmSegmentsApi",
    "CustomerValueApi",
    "MovementApi",
    "RefitApi",
    "RunsApi",
    "SegmentsApi",
]
