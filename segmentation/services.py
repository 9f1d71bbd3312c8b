"""Segmentation writes: the refit (a new run), making a run active, and scoring new customers with a
stored pipeline."""

from __future__ import annotations

import datetime
import io
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics.models import Category, ImportBatch, TransactionLine
from retail_platform.binary_copy import SIGNATURE, TRAILER, numeric_template, numeric_write
from retail_platform.errors import ApplicationError
from retail_platform.locks import data_write_lock
from segmentation import rfm
from segmentation.models import CustomerSegment, SegmentationRun, SegmentCell
from segmentation.selectors import SCATTER_SAMPLE, SCATTER_SEED, scatter_sample_sql

if TYPE_CHECKING:
    import pandas as pd

    from analytics.selectors.customer_activity import CustomerPurchases
    from segmentation import clustering

# pandas, scikit-learn and joblib are imported inside the functions that fit or score: web processes
# import this module (admin, API) but never fit, and those libraries would cost them ~150 MB each.

logger = logging.getLogger(__name__)

# Successful runs whose assignments are kept (the active run's always are); older runs keep their figures.
DEFAULT_KEEP_ASSIGNMENTS = 12

# The COPY's columns, text last: every row is then a fixed-width record followed by the two names.
_COPY_COLUMNS = (
    "run_id",
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "cluster",
    "rfm_segment",
    "segment",
)
# PostgreSQL's binary COPY row up to the names: field count, then each field's length and value. The
# monetary value is a numeric of five base-10,000 digits (four before the point, numeric(16, 2) holds
# fewer than 10^14, and the cents times 100): PostgreSQL strips the zero digits as it reads them.
_NUMERIC_DIGITS = 5
_FIXED_RECORD = np.dtype(
    [
        ("fields", ">i2"),
        ("run_id_length", ">i4"),
        ("run_id", ">i8"),
        ("customer_id_length", ">i4"),
        ("customer_id", ">i8"),
        ("recency_days_length", ">i4"),
        ("recency_days", ">i4"),
        ("frequency_length", ">i4"),
        ("frequency", ">i4"),
        ("monetary_length", ">i4"),
        ("monetary", ">i2", (4 + _NUMERIC_DIGITS,)),
        ("r_score_length", ">i4"),
        ("r_score", ">i2"),
        ("f_score_length", ">i4"),
        ("f_score", ">i2"),
        ("m_score_length", ">i4"),
        ("m_score", ">i2"),
        ("cluster_length", ">i4"),
        ("cluster", ">i2"),
    ]
)
_CELL_COPY_COLUMNS = (
    ("run_id", "int8"),
    ("segment", "text"),
    ("rfm_segment", "text"),
    ("customers", "int4"),
    ("order_values", "bytea"),
    ("days_since_purchase", "bytea"),
    ("cost_lines", "int8"),
    ("cost", "numeric"),
    ("net_with_cost", "numeric"),
)


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
    *, k: int | None = None, as_of: datetime.date | None = None, import_batch_id: int | None = None
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
            _refit(run, k=k, as_of=as_of, started=started, loading=loading)
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
    run: SegmentationRun, *, k: int | None, as_of: datetime.date | None, started: float, loading: threading.Thread
) -> None:
    from analytics.selectors.customer_activity import customer_rfm_frame
    from segmentation import clustering

    timings: dict[str, float] = {}

    mark = time.perf_counter()
    activity = customer_rfm_frame(as_of=as_of)
    frame = activity.frame
    timings["query"] = round(time.perf_counter() - mark, 3)
    if activity.as_of is None:
        raise _RefitImpossible("There are no transactions yet: import a file, then refit.")
    if frame.empty:
        raise _RefitImpossible(f"No customer made a purchase before {activity.as_of.isoformat()}: nothing to segment.")

    mark = time.perf_counter()
    scores = rfm.rfm_scores(frame["recency_days"], frame["frequency"], frame["monetary"])
    timings["scoring"] = round(time.perf_counter() - mark, 3)

    # What is left to wait for of the libraries' import once the query and the scores are done.
    mark = time.perf_counter()
    loading.join()
    timings["libraries"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    try:
        fitted = clustering.fit_clusters(frame["recency_days"], frame["frequency"], frame["monetary"], k=k)
    except clustering.ClusteringError as error:
        raise _RefitImpossible(str(error)) from error
    timings["clustering"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    _copy_assignments(run.pk, frame, scores, fitted)
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
    segmentation_run_summaries_save(run_id=run.pk, purchases=activity.purchases)
    timings["summaries"] = round(time.perf_counter() - mark, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    run.timings = timings
    run.duration_seconds = timings["total"]
    run.save(update_fields=["timings", "duration_seconds"])


def _copy_assignments(
    run_id: int, frame: pd.DataFrame, scores: rfm.RfmScores, fitted: clustering.ClusteringResult
) -> None:
    """COPY the run's assignments in binary, encoded by numpy: no Python object per customer (a row at a
    time through psycopg took three times as long)."""
    statement = f"COPY {CustomerSegment._meta.db_table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    data = assignment_copy_data(
        run_id=run_id,
        customer_ids=frame["customer_id"].to_numpy(np.int64),
        recency_days=frame["recency_days"].to_numpy(np.int64),
        frequency=frame["frequency"].to_numpy(np.int64),
        monetary_cents=frame["monetary_cents"].to_numpy(np.int64),
        r_scores=scores.r.scores,
        f_scores=scores.f.scores,
        m_scores=scores.m.scores,
        clusters=fitted.clusters,
        rfm_segments=scores.segments,
        segments=fitted.names,
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(data)


def assignment_copy_data(
    *,
    run_id: int,
    customer_ids: npt.NDArray[np.int64],
    recency_days: npt.NDArray[np.int64],
    frequency: npt.NDArray[np.int64],
    monetary_cents: npt.NDArray[np.int64],
    r_scores: npt.ArrayLike,
    f_scores: npt.ArrayLike,
    m_scores: npt.ArrayLike,
    clusters: npt.ArrayLike,
    rfm_segments: npt.ArrayLike,
    segments: npt.ArrayLike,
) -> bytes:
    """The whole binary COPY stream (signature, one row per customer in the given order, trailer) of the
    columns `_COPY_COLUMNS`. Pure: arrays in, bytes out."""
    import pandas as pd

    rows = len(customer_ids)
    fixed = np.zeros(rows, dtype=_FIXED_RECORD)
    fixed["fields"] = len(_COPY_COLUMNS)
    for name, width, values in (
        ("run_id", 8, run_id),
        ("customer_id", 8, customer_ids),
        ("recency_days", 4, recency_days),
        ("frequency", 4, frequency),
        ("r_score", 2, r_scores),
        ("f_score", 2, f_scores),
        ("m_score", 2, m_scores),
        ("cluster", 2, clusters),
    ):
        fixed[f"{name}_length"] = width
        fixed[name] = values
    fixed["monetary_length"] = 8 + 2 * _NUMERIC_DIGITS
    numeric_template(fixed["monetary"], scale=2)
    numeric_write(fixed["monetary"], np.asarray(monetary_cents, dtype=np.int64), scale=2)

    # Each row: the fixed record, then the two names (length and UTF-8 bytes), laid out in a padded
    # matrix, one row per customer, whose padding is then dropped. pandas hashes the names (numpy's
    # unique would sort 120,000 Python strings, ten times slower).
    rfm_codes, rfm_names = pd.factorize(np.asarray(rfm_segments, dtype=object))
    segment_codes, segment_names = pd.factorize(np.asarray(segments, dtype=object))
    rfm_fields = [_text_field(name) for name in rfm_names]
    segment_fields = [_text_field(name) for name in segment_names]
    rfm_widths = np.array([len(field) for field in rfm_fields], dtype=np.int64)
    segment_widths = np.array([len(field) for field in segment_fields], dtype=np.int64)
    width = _FIXED_RECORD.itemsize + int(rfm_widths.max(initial=0)) + int(segment_widths.max(initial=0))
    matrix = np.zeros((rows, width), dtype=np.uint8)
    matrix[:, : _FIXED_RECORD.itemsize] = fixed.view(np.uint8).reshape(rows, _FIXED_RECORD.itemsize)
    start = _FIXED_RECORD.itemsize
    for rfm_code, rfm_field in enumerate(rfm_fields):
        with_rfm = rfm_codes == rfm_code
        matrix[with_rfm, start : start + len(rfm_field)] = np.frombuffer(rfm_field, dtype=np.uint8)
        for segment_code, segment_field in enumerate(segment_fields):
            both = with_rfm & (segment_codes == segment_code)
            after = start + len(rfm_field)
            matrix[both, after : after + len(segment_field)] = np.frombuffer(segment_field, dtype=np.uint8)
    row_widths = _FIXED_RECORD.itemsize + rfm_widths[rfm_codes] + segment_widths[segment_codes]
    used = np.arange(width) < row_widths[:, None]
    return SIGNATURE + matrix[used].tobytes() + TRAILER


def _text_field(text: str) -> bytes:
    encoded = text.encode()
    return len(encoded).to_bytes(4, "big") + encoded


@transaction.atomic
def segmentation_run_summaries_save(*, run_id: int, purchases: CustomerPurchases | None = None) -> None:
    """Compute from a successful run's assignments (and, once, the transaction lines) what the pages
    and the simulator read: the scatter sample, the movement from the previous kept run, net sales
    per category x segment, and per K-Means x RFM cell the customers' purchase history. Called by
    the refit, which passes the purchase values its RFM pass read; without them they are read from
    the lines (one more pass). Replaces what the run had."""
    run = SegmentationRun.objects.only("id", "as_of", "created_at").get(pk=run_id)
    if purchases is None:
        from analytics.selectors.customer_activity import customer_rfm_frame

        purchases = customer_rfm_frame(as_of=run.as_of).purchases
    table = CustomerSegment._meta.db_table
    with connection.cursor() as cursor:
        # The run's rows were just COPYed: with statistics that predate them the planner takes the run
        # for a few rows and joins it to the lines or to another run in a nested loop (minutes at 1M
        # lines), or hashes the wrong side. Fresh statistics of the join columns, and no nested loop.
        # A sample of 3,000 rows (statistics target 10) shows the new run as well as the default 30,000
        # and reads a tenth of the pages of the table's kept runs (0.02 s instead of 0.15-1.2 s).
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {table} (run_id, customer_id)")
        cursor.execute("RESET default_statistics_target")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(scatter_sample_sql(table), [run.pk, str(SCATTER_SEED), SCATTER_SAMPLE])
        sample = [list(row) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT segment, rfm_segment, r_score, f_score, m_score, count(*), sum(monetary)::text, "
            f"sum(recency_days), sum(frequency) FROM {table} WHERE run_id = %s GROUP BY 1, 2, 3, 4, 5",
            [run.pk],
        )
        cube = sorted(list(row) for row in cursor.fetchall())
        movement = _movement_from_previous(cursor, run)
        cells, category_sales = _segment_cells(cursor, run, purchases)
        cursor.execute("RESET enable_nestloop")
    SegmentCell.objects.filter(run_id=run.pk).delete()
    _copy_cells(cells)
    SegmentationRun.objects.filter(pk=run.pk).update(
        scatter_sample=sample,
        assignment_cube=cube,
        movement=movement,
        category_sales=category_sales,
        summaries_saved=True,
    )


def _movement_from_previous(cursor: Any, run: SegmentationRun) -> dict[str, Any]:
    previous = (
        SegmentationRun.objects.filter(status=SegmentationRun.Status.SUCCEEDED, assignments_pruned=False)
        .exclude(pk=run.pk)
        .filter(Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, id__lt=run.pk))
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if previous is None:
        return {}
    # One join of the two runs for both kinds: customers per (K-Means, RFM) before x (K-Means, RFM) after.
    table = CustomerSegment._meta.db_table
    cursor.execute(
        f"SELECT a.segment, a.rfm_segment, b.segment, b.rfm_segment, count(*) FROM {table} a JOIN {table} b "
        "ON b.customer_id = a.customer_id AND b.run_id = %s WHERE a.run_id = %s GROUP BY 1, 2, 3, 4",
        [run.pk, previous],
    )
    kmeans: Counter[tuple[str, str]] = Counter()
    by_rfm: Counter[tuple[str, str]] = Counter()
    for segment_before, rfm_before, segment_after, rfm_after, customers in cursor.fetchall():
        kmeans[(segment_before, segment_after)] += customers
        by_rfm[(rfm_before, rfm_after)] += customers
    return {
        "from_run": previous,
        "kmeans": sorted([a, b, n] for (a, b), n in kmeans.items()),
        "rfm": sorted([a, b, n] for (a, b), n in by_rfm.items()),
    }


def _segment_cells(
    cursor: Any, run: SegmentationRun, purchases: CustomerPurchases
) -> tuple[list[SegmentCell], list[list[str]]]:
    """One pass over the lines joined to the run's customers: net per category x cell (with the cells'
    cost figures). The purchase values (read by the RFM pass) are put in their customer's cell in numpy
    (a join in PostgreSQL would hash the ~half a million invoices a second time)."""
    lines = TransactionLine._meta.db_table
    assignments = CustomerSegment._meta.db_table
    as_of = run.as_of
    purchase = "NOT l.is_return AND l.date < %s" if as_of else "NOT l.is_return"
    purchase_params = [as_of] if as_of else []
    cursor.execute("SET LOCAL work_mem = '256MB'")
    # Grouped by category id (named below): a join to the categories would cost a hash probe per line.
    cursor.execute(
        f"SELECT l.category_id, s.segment, s.rfm_segment, sum(l.net_amount), "
        f"count(l.cost) FILTER (WHERE {purchase}), sum(l.cost) FILTER (WHERE {purchase}), "
        f"sum(l.net_amount) FILTER (WHERE {purchase} AND l.cost IS NOT NULL) "
        f"FROM {lines} l JOIN {assignments} s ON s.customer_id = l.customer_id AND s.run_id = %s GROUP BY 1, 2, 3",
        [*purchase_params, *purchase_params, *purchase_params, run.pk],
    )
    by_category = cursor.fetchall()
    category_names = dict(Category.objects.filter(id__in={row[0] for row in by_category}).values_list("id", "name"))
    # The run's customers in pk order, packed: three values instead of 120,000 rows of Python objects.
    cursor.execute(
        "SELECT string_agg(int8send(customer_id) || int4send(recency_days), ''::bytea ORDER BY customer_id), "
        "string_agg(segment, chr(31) ORDER BY customer_id), string_agg(rfm_segment, chr(31) ORDER BY customer_id) "
        f"FROM {assignments} WHERE run_id = %s",
        [run.pk],
    )
    packed, segment_names, rfm_names = cursor.fetchone()
    records = np.frombuffer(bytes(packed or b""), dtype=np.dtype([("customer_id", ">i8"), ("recency_days", ">i4")]))
    customer_ids = records["customer_id"].astype(np.int64)
    recency = records["recency_days"].astype("<i4")
    segment_codes, segments = _factorize(segment_names)
    rfm_codes, rfm_segments = _factorize(rfm_names)
    pairs = segment_codes * len(rfm_segments) + rfm_codes
    present = [int(pair) for pair in np.unique(pairs)]
    key_of = {pair: (segments[pair // len(rfm_segments)], rfm_segments[pair % len(rfm_segments)]) for pair in present}
    cell_keys = sorted(key_of.values())
    cell_of_pair = np.zeros(len(segments) * len(rfm_segments), dtype=np.int64)
    cell_of_pair[present] = [cell_keys.index(key_of[pair]) for pair in present]
    customer_cells = cell_of_pair[pairs]
    # Every purchase to its customer's cell; a purchase of a customer the run did not segment is dropped.
    position = np.clip(np.searchsorted(customer_ids, purchases.customer_ids), 0, max(len(customer_ids) - 1, 0))
    known = customer_ids[position] == purchases.customer_ids if len(customer_ids) else np.zeros(0, dtype=bool)
    purchase_cells = customer_cells[position[known]]
    values = purchases.values[known]
    # Grouped by cell, each cell's customers and purchases kept in their order (customer pk, then invoice).
    cell_days = _split_by(customer_cells, len(cell_keys), recency)
    cell_values = _split_by(purchase_cells, len(cell_keys), values)

    costs: dict[tuple[str, str], list[Any]] = {key: [0, None, None] for key in cell_keys}
    for _, segment, rfm_segment, _, cost_lines, cost, net_with_cost in by_category:
        totals = costs[(segment, rfm_segment)]
        totals[0] += cost_lines
        if cost is not None:
            totals[1] = (totals[1] or Decimal(0)) + cost
        if net_with_cost is not None:
            totals[2] = (totals[2] or Decimal(0)) + net_with_cost
    cells = [
        SegmentCell(
            run_id=run.pk,
            segment=segment,
            rfm_segment=rfm_segment,
            customers=len(cell_days[number]),
            order_values=cell_values[number].astype("<f8").tobytes(),
            days_since_purchase=cell_days[number].tobytes(),
            cost_lines=costs[(segment, rfm_segment)][0],
            cost=costs[(segment, rfm_segment)][1],
            net_with_cost=costs[(segment, rfm_segment)][2],
        )
        for number, (segment, rfm_segment) in enumerate(cell_keys)
    ]
    category_sales = sorted(
        [category_names[category_id], segment, rfm_segment, str(net)]
        for category_id, segment, rfm_segment, net, *_ in by_category
    )
    return cells, category_sales


def _factorize(joined: str | None) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Codes and names of a chr(31)-separated list of names (segment names hold no control character)."""
    import pandas as pd

    codes, names = pd.factorize(np.array(joined.split("\x1f") if joined else [], dtype=object))
    return codes.astype(np.int64), [str(name) for name in names]


def _split_by(groups: npt.NDArray[np.int64], count: int, values: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """`values` split by group number (0..count-1), each group's values in their order."""
    order = np.argsort(groups, kind="stable")
    return np.split(values[order], np.cumsum(np.bincount(groups, minlength=count))[:-1])


def _copy_cells(cells: list[SegmentCell]) -> None:
    """COPY the cells in binary: their order values go as raw bytes (a few MB at 120,000 customers), not as
    hex in the text of an INSERT."""
    columns = [field for field, _ in _CELL_COPY_COLUMNS]
    statement = f"COPY {SegmentCell._meta.db_table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.set_types([kind for _, kind in _CELL_COPY_COLUMNS])
        for cell in cells:
            copy.write_row([getattr(cell, field) for field in columns])


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
