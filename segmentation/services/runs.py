"""Segmentation runs after the refit: making a run active, and scoring new customers with a run's
stored pipeline without refitting."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from retail_platform.errors import ApplicationError
from segmentation import rfm
from segmentation.models import SegmentationRun

if TYPE_CHECKING:
    from segmentation import clustering


@transaction.atomic
def segmentation_run_activate(*, run_id: int) -> SegmentationRun:
    """Make a successful run (whose assignments are still kept) the one the pages and API read."""
    run = SegmentationRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise ApplicationError(f"There is no segmentation run #{run_id}.", status=404)
    if run.status != SegmentationRun.Status.SUCCEEDED:
        raise ApplicationError(f"Run #{run_id} did not succeed ({run.status}); only a successful run can be active.")
    if run.assignments_pruned:
        raise ApplicationError(f"Run #{run_id} is too old: its customer assignments were deleted. Refit instead.")
    if not run.is_active:
        SegmentationRun.objects.filter(is_active=True).update(is_active=False)
        run.is_active = True
        run.save(update_fields=["is_active"])
    return run


@dataclass(frozen=True)
class CustomerScore:
    recency_days: int
    frequency: int
    monetary: float
    r_score: int
    f_score: int
    m_score: int
    rfm_segment: str
    cluster: int
    segment: str


def segmentation_customers_score(
    *, run_id: int, recency_days: list[int], frequency: list[int], monetary: list[float]
) -> list[CustomerScore]:
    """Score customers that a run has not seen with the run's stored pipeline and RFM cut points,
    without refitting. Lists are aligned, one entry per customer."""
    run = SegmentationRun.objects.filter(pk=run_id, status=SegmentationRun.Status.SUCCEEDED).first()
    if run is None or not run.pipeline:
        raise ApplicationError(f"Run #{run_id} has no stored pipeline to score with.", status=404)
    import joblib

    # Only this module writes the pipeline column, so loading it runs no foreign pickle.
    segmenter: clustering.FittedSegmenter = joblib.load(io.BytesIO(bytes(run.pipeline)))
    clusters, names = segmenter.predict(recency_days, frequency, monetary)
    r = rfm.score_with_cut_points(recency_days, rfm.cut_points_from_dict(run.cut_points["recency"]))
    f = rfm.score_with_cut_points(frequency, rfm.cut_points_from_dict(run.cut_points["frequency"]))
    m = rfm.score_with_cut_points(monetary, rfm.cut_points_from_dict(run.cut_points["monetary"]))
    informative = bool(run.frequency_informative)
    return [
        CustomerScore(
            recency_days=int(recency_days[i]),
            frequency=int(frequency[i]),
            monetary=float(monetary[i]),
            r_score=int(r[i]),
            f_score=int(f[i]),
            m_score=int(m[i]),
            rfm_segment=rfm.segment_for_scores(int(r[i]), int(f[i]), int(m[i]), frequency_informative=informative),
            cluster=int(clusters[i]),
            segment=str(names[i]),
        )
        for i in range(len(recency_days))
    ]
