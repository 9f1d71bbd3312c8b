"""The segmentation refit: a new run from every customer's history in the read model, made active
in one transaction with what the pages and the simulator read."""

from __future__ import annotations

import datetime
import io
import logging
import threading
import time
from concurrent.futures import Future

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from analytics.models import ImportBatch
from analytics.warehouse import customer_histories_get
from retail_platform.locks import data_write_lock
from segmentation import rfm
from segmentation.activity import customer_activity, purchase_days, typical_gap_days
from segmentation.models import CustomerSegment, SegmentationRun, SegmentCell
from segmentation.services.assignments import assignments_copy
from segmentation.services.customer_value import ValueFit, customer_value_fit, customer_value_save, margin_of
from segmentation.services.summaries import CostFigures, costs_read, segmentation_run_summaries_save

# pandas, scikit-learn and joblib are imported inside the functions that fit or score: web processes
# import this module (admin, API) but never fit, and those libraries would cost them ~150 MB each.

logger = logging.getLogger(__name__)

# Successful runs whose assignments are kept (the active run's always are); older runs keep their figures.
DEFAULT_KEEP_ASSIGNMENTS = 12


class _RefitImpossible(Exception):
    """The data cannot be segmented; the message tells the person why."""


def _definitions() -> dict[str, object]:
    from segmentation import clustering

    return {
        **rfm.DEFINITIONS,
        "rfm_segment_rules": [
            {"segment": rule.segment, "description": rule.description, "cells": sorted(rule.cells)}
            for rule in rfm.SEGMENT_RULES
        ],
        "naming_rule": clustering.NAMING_RULE,
    }


@transaction.atomic
def segmentation_run_create(
    *,
    k: int | None = None,
    as_of: datetime.date | None = None,
    import_batch_id: int | None = None,
    calibration_end: datetime.date | None = None,
) -> SegmentationRun:
    """Refit the segmentation on all the data and make the new run active.

    Holds the data-write lock for the whole refit, so it never runs alongside an import. When the data
    cannot be segmented (too few customers, say) the run is stored as failed with the reason and the
    active run stays as it was; nothing is raised."""
    from segmentation import clustering

    # pandas and scikit-learn take about a second of CPU to import in a fresh process (nothing once a
    # worker has refitted before): they load on a thread while this one waits for the lock and for
    # PostgreSQL's answer to the RFM query. If the import fails there, the fit imports again and the run
    # fails with that error.
    loading = threading.Thread(target=clustering.load_libraries, name="refit-libraries", daemon=True)
    loading.start()
    data_write_lock()
    started = time.perf_counter()
    if import_batch_id is None:
        import_batch_id = (
            ImportBatch.objects.filter(status=ImportBatch.Status.SUCCEEDED)
            .order_by(F("finished_at").desc(nulls_last=True), "-id")
            .values_list("id", flat=True)
            .first()
        )
    elif not ImportBatch.objects.filter(pk=import_batch_id).exists():
        import_batch_id = None
    run = SegmentationRun.objects.create(
        status=SegmentationRun.Status.RUNNING,
        import_batch_id=import_batch_id,
        as_of=as_of,
        parameters={"k_requested": k, "as_of_given": as_of is not None},
        definitions=_definitions(),
    )
    try:
        with transaction.atomic():
            _refit(run, k=k, as_of=as_of, calibration_end=calibration_end, started=started, loading=loading)
    except _RefitImpossible as error:
        _mark_failed(run, str(error), started)
    except Exception as error:
        logger.exception("Segmentation run %s failed", run.pk)
        _mark_failed(run, f"The refit failed unexpectedly ({type(error).__name__}: {error}).", started)
    finally:
        # A run that failed before the fit leaves the import running: a command exiting right after it
        # must not cut an import short.
        loading.join()
    return run


def _mark_failed(run: SegmentationRun, message: str, started: float) -> None:
    run.refresh_from_db()
    run.status = SegmentationRun.Status.FAILED
    run.message = message
    run.is_active = False
    run.duration_seconds = round(time.perf_counter() - started, 3)
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "message", "is_active", "duration_seconds", "finished_at"])


def _refit(
    run: SegmentationRun,
    *,
    k: int | None,
    as_of: datetime.date | None,
    calibration_end: datetime.date | None,
    started: float,
    loading: threading.Thread,
) -> None:
    from segmentation import clustering

    timings: dict[str, float] = {}

    mark = time.perf_counter()
    histories = customer_histories_get()
    activity = customer_activity(histories, as_of=as_of)
    frame = activity.frame
    timings["query"] = round(time.perf_counter() - mark, 3)
    as_of = activity.as_of
    if as_of is None:
        raise _RefitImpossible("There are no transactions yet: import a file, then refit.")
    if frame.empty:
        raise _RefitImpossible(f"No customer made a purchase before {as_of.isoformat()}: nothing to segment.")

    mark = time.perf_counter()
    scores = rfm.rfm_scores(frame["recency_days"], frame["frequency"], frame["monetary"])
    purchases = purchase_days(histories, as_of=as_of)
    timings["scoring"] = round(time.perf_counter() - mark, 3)

    # The customer-value fit needs the purchase days alone (no database): it runs on a thread while
    # the segments are fitted and saved (numpy and scipy leave the lock while they compute).
    value_fitting: Future[ValueFit] = Future()

    def fit_values() -> None:
        try:
            value_fitting.set_result(
                customer_value_fit(purchases=purchases, as_of=as_of, calibration_end=calibration_end)
            )
        except BaseException as error:  # raised again where the refit waits for it
            value_fitting.set_exception(error)

    threading.Thread(target=fit_values, name="refit-customer-value", daemon=True).start()

    # What is left to wait for of the libraries' import once the query and the scores are done.
    mark = time.perf_counter()
    loading.join()
    timings["libraries"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    try:
        fitted = clustering.fit_clusters(
            frame["recency_days"],
            frame["frequency"],
            frame["monetary"],
            k=k,
            typical_gap_days=typical_gap_days(purchases.days),
        )
    except clustering.ClusteringError as error:
        raise _RefitImpossible(str(error)) from error
    timings["clustering"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    assignments_copy(run.pk, frame, scores, fitted)
    timings["saving"] = round(time.perf_counter() - mark, 3)

    notes = []
    if not scores.frequency_informative:
        notes.append(
            "Every customer made the same number of purchases, so frequency carries no information: "
            "the segments come from recency and monetary value."
        )
    if activity.customers_without_purchase:
        notes.append(
            f"{activity.customers_without_purchase} customers with only returns are left out (no purchase to date)."
        )

    SegmentationRun.objects.filter(is_active=True).update(is_active=False)
    run.status = SegmentationRun.Status.SUCCEEDED
    run.is_active = True
    run.message = " ".join(notes)
    run.as_of = activity.as_of
    run.k = fitted.k
    run.silhouette = fitted.silhouette
    run.inertia = fitted.inertia
    run.customers = len(frame)
    run.frequency_informative = scores.frequency_informative
    run.cut_points = rfm.cut_points_as_dict(scores)
    run.clusters = [
        {
            "cluster": profile.cluster,
            "name": profile.name,
            "customers": profile.customers,
            "recency_days": profile.recency_days,
            "frequency": profile.frequency,
            "monetary": profile.monetary,
            "active": profile.active,
            "high_value": profile.high_value,
        }
        for profile in fitted.profiles
    ]
    run.parameters = {
        **run.parameters,
        **fitted.parameters,
        "as_of_given": activity.as_of_given,
        "customers_without_purchase": activity.customers_without_purchase,
    }
    import joblib

    buffer = io.BytesIO()
    joblib.dump(fitted.segmenter, buffer)
    run.pipeline = buffer.getvalue()
    run.finished_at = timezone.now()
    run.save()
    mark = time.perf_counter()
    _prune_old_assignments()
    timings["pruning"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    costs = costs_read(
        activity,
        histories_costs=CostFigures(
            customer_ids=histories.customer_ids,
            lines=histories.cost_lines,
            cost_cents=histories.cost_cents,
            net_cents=histories.net_with_cost_cents,
        ),
    )
    segmentation_run_summaries_save(run_id=run.pk, activity=activity, costs=costs)
    timings["summaries"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    with_cost = costs.lines > 0
    margin, margin_source = margin_of(
        cost_cents=int(costs.cost_cents[with_cost].sum()), net_cents=int(costs.net_cents[with_cost].sum())
    )
    customer_ids = frame["customer_id"].to_numpy(np.int64)
    customer_value_save(
        run=run,
        value_fit=value_fitting.result(),
        purchases=purchases,
        margin=margin,
        margin_source=margin_source,
        labels={"kmeans": (customer_ids, list(fitted.names)), "rfm": (customer_ids, list(scores.segments))},
    )
    # What is left to wait for of the fit (it ran beside the stages above), and the save; the fit's
    # own seconds are on its CustomerValueModel.
    timings["customer_value"] = round(time.perf_counter() - mark, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    run.timings = timings
    run.duration_seconds = timings["total"]
    run.save(update_fields=["timings", "duration_seconds"])


def _prune_old_assignments() -> None:
    keep = getattr(settings, "SEGMENTATION_KEEP_ASSIGNMENTS", DEFAULT_KEEP_ASSIGNMENTS)
    kept = SegmentationRun.objects.filter(status=SegmentationRun.Status.SUCCEEDED).order_by("-created_at", "-id")
    kept_ids = list(kept.values_list("id", flat=True)[:keep])
    stale = (
        SegmentationRun.objects.filter(status=SegmentationRun.Status.SUCCEEDED, assignments_pruned=False)
        .exclude(id__in=kept_ids)
        .exclude(is_active=True)
    )
    stale_ids = list(stale.values_list("id", flat=True))
    if stale_ids:
        CustomerSegment.objects.filter(run_id__in=stale_ids).delete()
        SegmentCell.objects.filter(run_id__in=stale_ids).delete()
        SegmentationRun.objects.filter(id__in=stale_ids).update(
            assignments_pruned=True, pipeline=None, scatter_sample=[]
        )
