"""Segmentation runs as the pages, the API and the campaigns see them (the stored pipeline is never
loaded for display), and how customers moved between the segments of the two latest runs.
`NoSegmentationRun` (an ApplicationError, 404) when there is no run to read yet."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection
from django.db.models import QuerySet

from retail_platform.errors import ApplicationError
from segmentation import rfm
from segmentation.models import CustomerSegment, SegmentationRun

Kind = Literal["kmeans", "rfm"]
KINDS: tuple[Kind, ...] = ("kmeans", "rfm")

# A run as the pages and the API see it (the stored pipeline is never loaded for display).
_RUN_FIELDS = (
    "id",
    "status",
    "message",
    "is_active",
    "parameters",
    "k",
    "silhouette",
    "inertia",
    "customers",
    "duration_seconds",
    "timings",
    "import_batch_id",
    "as_of",
    "frequency_informative",
    "cut_points",
    "clusters",
    "assignments_pruned",
    "created_at",
    "finished_at",
)


class NoSegmentationRun(ApplicationError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or "There is no segmentation yet: import transactions (a refit follows) or ask staff to refit.",
            {"reason": "no_segmentation_run"},
            status=404,
        )


@dataclass(frozen=True)
class ClusterInfo:
    cluster: int
    name: str
    customers: int
    recency_days: float  # the centroid in original units
    frequency: float
    monetary: float
    active: bool
    high_value: bool


@dataclass(frozen=True)
class RunInfo:
    id: int
    status: str
    message: str
    is_active: bool
    k: int | None
    silhouette: float | None
    inertia: float | None
    customers: int
    duration_seconds: float | None
    timings: dict[str, float]
    parameters: dict[str, Any]
    import_batch_id: int | None
    as_of: datetime.date | None
    frequency_informative: bool | None
    # {"recency"|"frequency"|"monetary": [{"score", "min", "max", "customers"}, ...]}, ordered by score.
    cut_points: dict[str, list[dict[str, float | int]]]
    clusters: tuple[ClusterInfo, ...]
    assignments_pruned: bool
    created_at: datetime.datetime
    finished_at: datetime.datetime | None

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(cluster.name for cluster in self.clusters)


def run_info(run: SegmentationRun) -> RunInfo:
    return RunInfo(
        id=run.pk,
        status=run.status,
        message=run.message,
        is_active=run.is_active,
        k=run.k,
        silhouette=run.silhouette,
        inertia=run.inertia,
        customers=run.customers,
        duration_seconds=run.duration_seconds,
        timings=run.timings,
        parameters=run.parameters,
        import_batch_id=run.import_batch_id,
        as_of=run.as_of,
        frequency_informative=run.frequency_informative,
        cut_points=run.cut_points,
        clusters=tuple(ClusterInfo(**entry) for entry in run.clusters),
        assignments_pruned=run.assignments_pruned,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


def runs_query() -> QuerySet[SegmentationRun]:
    return SegmentationRun.objects.only(*_RUN_FIELDS)


def segmentation_run_active_get() -> RunInfo | None:
    run = runs_query().filter(is_active=True).first()
    return run_info(run) if run else None


def segmentation_run_get(*, run_id: int | None = None) -> RunInfo:
    """The given run, or the active one; NoSegmentationRun when there is none."""
    if run_id is None:
        run = runs_query().filter(is_active=True).first()
        if run is None:
            raise NoSegmentationRun()
    else:
        run = runs_query().filter(pk=run_id).first()
        if run is None:
            raise NoSegmentationRun(f"There is no segmentation run #{run_id}.")
    return run_info(run)


def readable_run(run_id: int | None) -> RunInfo:
    run = segmentation_run_get(run_id=run_id)
    if run.status != SegmentationRun.Status.SUCCEEDED or run.assignments_pruned:
        raise NoSegmentationRun(f"Run #{run.id} has no customer assignments to read.")
    return run


def segmentation_run_list(*, limit: int = 50) -> list[RunInfo]:
    """The latest runs, newest first, failed ones included."""
    return [run_info(run) for run in runs_query().order_by("-created_at", "-id")[:limit]]


@dataclass(frozen=True)
class MovementCell:
    from_segment: str
    to_segment: str
    customers: int


@dataclass(frozen=True)
class Movement:
    """How customers moved between the segments of two runs. The cells add up to customers_in_both."""

    kind: Kind
    from_run: RunInfo
    to_run: RunInfo
    from_segments: tuple[str, ...]
    to_segments: tuple[str, ...]
    cells: tuple[MovementCell, ...]  # non-zero cells only
    customers_in_both: int
    only_in_from: int  # customers of the earlier run missing from the later one
    only_in_to: int  # new customers in the later run

    def matrix(self) -> list[list[int]]:
        """Counts as rows (from_segments) x columns (to_segments)."""
        counts = {(cell.from_segment, cell.to_segment): cell.customers for cell in self.cells}
        return [[counts.get((a, b), 0) for b in self.to_segments] for a in self.from_segments]


def movement_sql(table: str, column: str) -> str:
    """Customers per (segment in the earlier run, segment in the later one); params: later, earlier run."""
    return (
        f"SELECT a.{column}, b.{column}, count(*) FROM {table} a JOIN {table} b "
        "ON b.customer_id = a.customer_id AND b.run_id = %s WHERE a.run_id = %s GROUP BY 1, 2"
    )


def segment_movement_get(*, kind: Kind = "kmeans") -> Movement | None:
    """Movement between the two latest successful runs whose assignments are kept; None with fewer.

    The refit saves the later run's movement from the earlier one; it is computed here (from the two
    runs' assignments, never the lines) only when the two latest runs are not such a pair."""
    latest = list(
        runs_query()
        .filter(status=SegmentationRun.Status.SUCCEEDED, assignments_pruned=False)
        .order_by("-created_at", "-id")[:2]
    )
    if len(latest) < 2:
        return None
    to_run, from_run = (run_info(run) for run in latest)
    column = "segment" if kind == "kmeans" else "rfm_segment"
    saved = SegmentationRun.objects.filter(pk=to_run.id).values_list("movement", flat=True).first() or {}
    if saved.get("from_run") == from_run.id and kind in saved:
        found = saved[kind]
    else:
        with connection.cursor() as cursor:
            cursor.execute(movement_sql(CustomerSegment._meta.db_table, column), [to_run.id, from_run.id])
            found = cursor.fetchall()
    cells = tuple(MovementCell(a, b, count) for a, b, count in found)
    both = sum(cell.customers for cell in cells)

    def names(run: RunInfo) -> tuple[str, ...]:
        return run.segment_names if kind == "kmeans" else rfm.SEGMENTS

    return Movement(
        kind=kind,
        from_run=from_run,
        to_run=to_run,
        from_segments=names(from_run),
        to_segments=names(to_run),
        cells=tuple(sorted(cells, key=lambda c: (c.from_segment, c.to_segment))),
        customers_in_both=both,
        only_in_from=from_run.customers - both,
        only_in_to=to_run.customers - both,
    )
