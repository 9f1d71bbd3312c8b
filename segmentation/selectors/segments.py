"""Segmentation reads, for the pages, the API and the campaigns. They read the active run unless a
run id is given, and return frozen dataclasses (or, for customer lists, a values queryset of
`CustomerSegmentRow` dicts that pages and exports paginate or stream).

Raise `NoSegmentationRun` (an ApplicationError, 404) when there is no run to read yet.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypedDict

import numpy as np
import numpy.typing as npt
import psycopg
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Avg, Count, F, Q, QuerySet, Sum

from analytics.warehouse import SalesFilter, answer_get, customer_category_nets_get, dimensions_get, question_key
from retail_platform.errors import ApplicationError
from segmentation import rfm
from segmentation.models import CustomerSegment, SegmentationRun, SegmentCell

Kind = Literal["kmeans", "rfm"]
KINDS: tuple[Kind, ...] = ("kmeans", "rfm")
CENT = Decimal("0.01")
SCATTER_SAMPLE = 2_000
SCATTER_SEED = 42

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


def _money(value: Decimal | int | float | None) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _share(part: Decimal | int, whole: Decimal | int) -> float:
    return float(Decimal(part) / Decimal(whole)) if whole and whole > 0 else 0.0


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


def _run_info(run: SegmentationRun) -> RunInfo:
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


def _runs() -> QuerySet[SegmentationRun]:
    return SegmentationRun.objects.only(*_RUN_FIELDS)


def segmentation_run_active_get() -> RunInfo | None:
    run = _runs().filter(is_active=True).first()
    return _run_info(run) if run else None


def segmentation_run_get(*, run_id: int | None = None) -> RunInfo:
    """The given run, or the active one; NoSegmentationRun when there is none."""
    if run_id is None:
        run = _runs().filter(is_active=True).first()
        if run is None:
            raise NoSegmentationRun()
    else:
        run = _runs().filter(pk=run_id).first()
        if run is None:
            raise NoSegmentationRun(f"There is no segmentation run #{run_id}.")
    return _run_info(run)


def _readable_run(run_id: int | None) -> RunInfo:
    run = segmentation_run_get(run_id=run_id)
    if run.status != SegmentationRun.Status.SUCCEEDED or run.assignments_pruned:
        raise NoSegmentationRun(f"Run #{run.id} has no customer assignments to read.")
    return run


def segmentation_run_list(*, limit: int = 50) -> list[RunInfo]:
    """The latest runs, newest first, failed ones included."""
    return [_run_info(run) for run in _runs().order_by("-created_at", "-id")[:limit]]


@dataclass(frozen=True)
class SegmentNames:
    kmeans: tuple[str, ...]  # the active run's cluster names, by cluster number (empty without a run)
    rfm: tuple[str, ...]  # the eleven RFM segments, best first

    @property
    def all(self) -> tuple[str, ...]:
        return self.kmeans + self.rfm


def segment_names_list() -> SegmentNames:
    """Valid segment names. K-Means and RFM names never coincide, so a name says which it is."""
    run = segmentation_run_active_get()
    return SegmentNames(kmeans=run.segment_names if run else (), rfm=rfm.SEGMENTS)


@dataclass(frozen=True)
class SegmentSummary:
    kind: Kind
    segment: str
    cluster: int | None  # K-Means only
    customers: int
    share_of_customers: float
    net_sales: Decimal
    share_of_sales: float
    mean_recency_days: float | None
    mean_frequency: float | None
    mean_monetary: Decimal | None


def segment_summary_list(*, kind: Kind = "kmeans", run_id: int | None = None) -> list[SegmentSummary]:
    """One row per segment: K-Means clusters by number, or the eleven RFM segments best first (all of
    them, empty ones included). Shares are of the run's customers and of their total net amount."""
    run = _readable_run(run_id)
    column = "segment" if kind == "kmeans" else "rfm_segment"
    cube = _assignment_cube(run.id)
    if cube is not None:
        rows = _segment_rows_from_cube(cube, kind)
    else:
        rows = {
            row[column]: row
            for row in CustomerSegment.objects.filter(run_id=run.id)
            .values(column)
            .annotate(
                customers=Count("id"),
                net_sales=Sum("monetary"),
                mean_recency=Avg("recency_days"),
                mean_frequency=Avg("frequency"),
                mean_monetary=Avg("monetary"),
            )
            .order_by()
        }
    total_customers = sum(row["customers"] for row in rows.values())
    total_sales = sum((row["net_sales"] for row in rows.values()), Decimal(0))
    names: list[tuple[str, int | None]] = (
        [(c.name, c.cluster) for c in run.clusters] if kind == "kmeans" else [(n, None) for n in rfm.SEGMENTS]
    )
    summaries = []
    for name, cluster in names:
        row = rows.get(name)
        summaries.append(
            SegmentSummary(
                kind=kind,
                segment=name,
                cluster=cluster,
                customers=row["customers"] if row else 0,
                share_of_customers=_share(row["customers"], total_customers) if row else 0.0,
                net_sales=_money(row["net_sales"]) if row else _money(0),
                share_of_sales=_share(row["net_sales"], total_sales) if row else 0.0,
                mean_recency_days=round(float(row["mean_recency"]), 2) if row else None,
                mean_frequency=round(float(row["mean_frequency"]), 2) if row else None,
                mean_monetary=_money(row["mean_monetary"]) if row else None,
            )
        )
    return summaries


def _assignment_cube(run_id: int) -> list[list[Any]] | None:
    """The run's saved customers per segment x RFM segment x scores (see SegmentationRun.assignment_cube);
    None for a run made before the refit saved it."""
    saved, cube = SegmentationRun.objects.filter(pk=run_id).values_list("summaries_saved", "assignment_cube")[0]
    return cube if saved else None


def _segment_rows_from_cube(cube: list[list[Any]], kind: Kind) -> dict[str, dict[str, Any]]:
    totals: dict[str, list[Any]] = {}
    for segment, rfm_segment, _r, _f, _m, customers, monetary, recency, frequency in cube:
        entry = totals.setdefault(segment if kind == "kmeans" else rfm_segment, [0, Decimal(0), 0, 0])
        entry[0] += customers
        entry[1] += Decimal(monetary)
        entry[2] += recency
        entry[3] += frequency
    return {
        name: {
            "customers": customers,
            "net_sales": monetary,
            "mean_recency": Decimal(recency) / customers,
            "mean_frequency": Decimal(frequency) / customers,
            "mean_monetary": monetary / customers,
        }
        for name, (customers, monetary, recency, frequency) in totals.items()
    }


class CustomerSegmentRow(TypedDict):
    external_id: str  # the customer's id in the retailer's files (the API calls it customer_id)
    recency_days: int
    frequency: int
    monetary: Decimal
    r_score: int
    f_score: int
    m_score: int
    rfm_segment: str
    cluster: int
    segment: str


# "imported" (the default) is the order customers first appeared in the imports: it reads straight off
# the (run, customer) index, so any page is fast; the others sort the run's rows.
CUSTOMER_ORDERINGS = {
    "imported": ("customer_id",),
    "customer_id": ("customer__external_id",),
    "-monetary": ("-monetary", "customer_id"),
    "monetary": ("monetary", "customer_id"),
    "recency_days": ("recency_days", "customer_id"),
    "-frequency": ("-frequency", "customer_id"),
}


def customer_segment_list(
    *,
    run_id: int | None = None,
    segment: str | None = None,
    rfm_segment: str | None = None,
    ordering: str = "imported",
) -> QuerySet[Any]:
    """The customers of a run (active unless given) as `CustomerSegmentRow` dicts, optionally only
    those of one K-Means segment and/or one RFM segment. Lazy: paginate it or stream `.iterator()`."""
    run = _readable_run(run_id)
    return customer_segment_queryset(run_id=run.id, segment=segment, rfm_segment=rfm_segment, ordering=ordering)


def customer_segment_queryset(
    *, run_id: int, segment: str | None = None, rfm_segment: str | None = None, ordering: str = "imported"
) -> QuerySet[Any]:
    """As customer_segment_list, for a run already known to be readable (no query until evaluated)."""
    queryset = CustomerSegment.objects.filter(run_id=run_id)
    if segment:
        queryset = queryset.filter(segment=segment)
    if rfm_segment:
        queryset = queryset.filter(rfm_segment=rfm_segment)
    return queryset.order_by(*CUSTOMER_ORDERINGS[ordering]).values(
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_segment",
        "cluster",
        "segment",
        external_id=F("customer__external_id"),
    )


def segment_customer_ids(*, segments: list[str], run_id: int | None = None) -> QuerySet[Any]:
    """Customer pks (analytics.Customer) in any of the named segments of the active run; a name may be
    a K-Means segment or an RFM segment (the two sets of names never coincide)."""
    run = _readable_run(run_id)
    kmeans = [name for name in segments if name not in rfm.SEGMENTS]
    by_rfm = [name for name in segments if name in rfm.SEGMENTS]
    queryset = CustomerSegment.objects.filter(run_id=run.id)
    if kmeans and by_rfm:
        queryset = queryset.filter(Q(segment__in=kmeans) | Q(rfm_segment__in=by_rfm))
    elif by_rfm:
        queryset = queryset.filter(rfm_segment__in=by_rfm)
    else:
        queryset = queryset.filter(segment__in=kmeans)
    return queryset.order_by("customer_id").values_list("customer_id", flat=True)


@dataclass(frozen=True)
class PurchaseHistory:
    """The purchases of the customers in some segments of a run, before its as-of date, as the refit
    saved them (segmentation_run_summaries_save); no transaction line is read."""

    run_id: int
    customers: int
    # Net value of each purchase (one invoice's purchase lines) above zero.
    order_values: npt.NDArray[np.float64] = field(repr=False, compare=False)
    # Per customer: days from the last purchase to the as-of date (1 = the day before).
    days_since_purchase: npt.NDArray[np.int64] = field(repr=False, compare=False)
    # Purchase lines that carry cost, their cost and their net amount (None when no line has cost).
    cost_lines: int
    cost: Decimal | None
    net_with_cost: Decimal | None


def _binary_results_cursor() -> CursorWrapper:
    """A cursor of Django's connection that gets results in the binary format, so packed arrays
    (8 bytes an order, megabytes for a large segment) arrive as stored, not as hex text twice their
    size to decode. Django's own cursors bind client-side, which psycopg allows for text results
    only; this one binds server-side, and is wrapped as Django's are (queries logged when enabled)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    return CursorDebugWrapper(raw, connection) if connection.queries_logged else CursorWrapper(raw, connection)


def segment_purchase_history_get(*, segments: list[str], run_id: int | None = None) -> PurchaseHistory:
    """The purchase history of the customers in any of the named segments (K-Means or RFM names, as
    in segment_customer_ids): the union of the run's saved K-Means x RFM cells that hold them."""
    run = _readable_run(run_id)
    kmeans = [name for name in segments if name not in rfm.SEGMENTS]
    by_rfm = [name for name in segments if name in rfm.SEGMENTS]
    saved = SegmentationRun.objects.filter(pk=run.id).values_list("summaries_saved", flat=True)[0]
    if not saved:
        raise NoSegmentationRun(
            f"Run #{run.id} was made before purchase histories were saved with each run: refit to read them."
        )
    sql, params = (
        SegmentCell.objects.filter(run_id=run.id)
        .filter(Q(segment__in=kmeans) | Q(rfm_segment__in=by_rfm))
        .order_by("segment", "rfm_segment")
        .values_list("customers", "order_values", "days_since_purchase", "cost_lines", "cost", "net_with_cost")
        .query.sql_with_params()
    )
    with _binary_results_cursor() as cursor:
        cursor.execute(sql, params)
        cells = cursor.fetchall()
    costs = [cost for *_, cost, _ in cells if cost is not None]
    nets = [net for *_, net in cells if net is not None]
    return PurchaseHistory(
        run_id=run.id,
        customers=sum(cell[0] for cell in cells),
        order_values=np.concatenate(
            [np.zeros(0, np.float64), *(np.frombuffer(bytes(cell[1]), dtype="<f8") for cell in cells)]
        ).astype(np.float64),
        days_since_purchase=np.concatenate(
            [np.zeros(0, np.int32), *(np.frombuffer(bytes(cell[2]), dtype="<i4") for cell in cells)]
        ).astype(np.int64),
        cost_lines=sum(cell[3] for cell in cells),
        cost=sum(costs, Decimal(0)) if costs else None,
        net_with_cost=sum(nets, Decimal(0)) if nets else None,
    )


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
        _runs()
        .filter(status=SegmentationRun.Status.SUCCEEDED, assignments_pruned=False)
        .order_by("-created_at", "-id")[:2]
    )
    if len(latest) < 2:
        return None
    to_run, from_run = (_run_info(run) for run in latest)
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


@dataclass(frozen=True)
class ScoreGrid:
    """Customers per R score (rows 5..1) x F or M score (columns 1..5)."""

    run_id: int
    column: Literal["frequency", "monetary"]
    r_scores: tuple[int, ...]
    column_scores: tuple[int, ...]
    counts: tuple[tuple[int, ...], ...]


def rfm_score_grid_get(
    *, column: Literal["frequency", "monetary"] = "frequency", run_id: int | None = None
) -> ScoreGrid:
    run = _readable_run(run_id)
    score_field = "f_score" if column == "frequency" else "m_score"
    cube = _assignment_cube(run.id)
    found: dict[tuple[int, int], int] = {}
    if cube is not None:
        for _segment, _rfm_segment, r, f, m, customers, *_sums in cube:
            key = (r, f if column == "frequency" else m)
            found[key] = found.get(key, 0) + customers
    else:
        found = {
            (row["r_score"], row[score_field]): row["customers"]
            for row in CustomerSegment.objects.filter(run_id=run.id)
            .values("r_score", score_field)
            .annotate(customers=Count("id"))
            .order_by()
        }
    r_scores = (5, 4, 3, 2, 1)
    column_scores = rfm.SCORES
    return ScoreGrid(
        run_id=run.id,
        column=column,
        r_scores=r_scores,
        column_scores=column_scores,
        counts=tuple(tuple(found.get((r, c), 0) for c in column_scores) for r in r_scores),
    )


def rfm_cut_points_get(*, run_id: int | None = None) -> dict[str, list[dict[str, float | int]]]:
    """The score ranges of the run: per dimension, [{"score", "min", "max", "customers"}] by score."""
    return _readable_run(run_id).cut_points


def frequency_informative_get(*, run_id: int | None = None) -> bool:
    """False when every customer bought equally often (frequency then carries no information)."""
    return bool(_readable_run(run_id).frequency_informative)


@dataclass(frozen=True)
class ScatterPoint:
    recency_days: int
    frequency: int
    monetary: float
    segment: str
    rfm_segment: str
    cluster: int


def scatter_sample_sql(table: str) -> str:
    """A run's seeded sample (params: run id, seed, limit): the same customers for the same run and seed."""
    return (
        "SELECT recency_days, frequency, monetary::float8, segment, rfm_segment, cluster "
        f"FROM {table} WHERE run_id = %s ORDER BY md5(customer_id::text || ':' || %s), customer_id LIMIT %s"
    )


def rfm_scatter_sample(
    *, run_id: int | None = None, limit: int = SCATTER_SAMPLE, seed: int = SCATTER_SEED
) -> list[ScatterPoint]:
    """Up to `limit` customers of the run, the same ones for the same run and seed (no ids). The
    default sample is the one the refit saved with the run; any other is drawn from the assignments."""
    run = _readable_run(run_id)
    if limit == SCATTER_SAMPLE and seed == SCATTER_SEED:
        saved, sample = SegmentationRun.objects.filter(pk=run.id).values_list("summaries_saved", "scatter_sample")[0]
        if saved:
            return [ScatterPoint(*row) for row in sample]
    with connection.cursor() as cursor:
        cursor.execute(scatter_sample_sql(CustomerSegment._meta.db_table), [run.id, str(seed), limit])
        return [ScatterPoint(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class CategorySegmentSales:
    category: str
    segment: str
    net_sales: Decimal
    share_of_segment: float  # of the segment's net sales in scope
    share_of_category: float  # of the category's net sales in scope


@dataclass(frozen=True)
class CategoryBySegment:
    run: RunInfo
    kind: Kind
    segments: tuple[str, ...]
    categories: tuple[str, ...]
    rows: tuple[CategorySegmentSales, ...]


def category_by_segment_get(
    *, kind: Kind = "kmeans", run_id: int | None = None, sales_filter: SalesFilter | None = None
) -> CategoryBySegment:
    """Net sales per category and segment of the run's customers, over the lines in scope of the
    filter (the analytics' filter: dates inclusive, stores and categories by name; none means every
    line). Customers the run did not segment (those with only returns) are left out.

    Unfiltered, the answer is the one the refit saved with the run: the data as it was at the refit
    (every import is followed by one). Filtered, it is computed from the read model's transactions
    on demand, then cached per run, data version and filter."""
    run = _readable_run(run_id)
    rows = None
    if sales_filter is None or sales_filter.is_empty:
        saved, category_sales = SegmentationRun.objects.filter(pk=run.id).values_list(
            "summaries_saved", "category_sales"
        )[0]
        if saved:
            rows = _category_rows(_fold_category_sales(category_sales, kind))
    if rows is None:
        chosen = sales_filter or SalesFilter()
        rows = answer_get(
            "segmentation:category_by_segment",
            question_key(run.id, kind, chosen.cache_key),
            lambda _version: _category_by_segment_rows(run.id, kind, chosen),
        )
    segments = run.segment_names if kind == "kmeans" else rfm.SEGMENTS
    return CategoryBySegment(
        run=run,
        kind=kind,
        segments=segments,
        categories=tuple(sorted({row.category for row in rows})),
        rows=rows,
    )


def _category_by_segment_rows(run_id: int, kind: Kind, sales_filter: SalesFilter) -> tuple[CategorySegmentSales, ...]:
    column = "segment" if kind == "kmeans" else "rfm_segment"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(int8send(customer_id), ''::bytea ORDER BY customer_id), "
            f"string_agg({column}, chr(31) ORDER BY customer_id) FROM {CustomerSegment._meta.db_table} "
            "WHERE run_id = %s",
            [run_id],
        )
        packed, names = cursor.fetchone()
    customer_ids = np.frombuffer(bytes(packed or b""), dtype=">i8").astype(np.int64)
    segment_names = sorted(set(names.split("\x1f"))) if names else []
    segment_codes = np.searchsorted(segment_names, np.array(names.split("\x1f") if names else [], dtype=object))
    nets = customer_category_nets_get(sales_filter=sales_filter)
    if not len(customer_ids) or not len(nets.customer_ids):
        return ()
    position = np.clip(np.searchsorted(customer_ids, nets.customer_ids), 0, len(customer_ids) - 1)
    known = customer_ids[position] == nets.customer_ids
    categories, category_codes = np.unique(nets.category_ids[known], return_inverse=True)
    slots = category_codes * len(segment_names) + segment_codes[position[known]]
    totals = np.zeros(len(categories) * len(segment_names), dtype=np.int64)
    np.add.at(totals, slots, nets.net_cents[known])
    category_names = dimensions_get().category_names()
    return _category_rows(
        [
            (
                category_names[int(categories[slot // len(segment_names)])],
                segment_names[slot % len(segment_names)],
                Decimal(int(totals[slot])).scaleb(-2),
            )
            for slot in np.unique(slots).tolist()
        ]
    )


def _fold_category_sales(category_sales: list[list[str]], kind: Kind) -> list[tuple[str, str, Decimal]]:
    """The run's saved [category, segment, rfm_segment, net] rows summed per category and segment of one kind."""
    totals: dict[tuple[str, str], Decimal] = {}
    for category, segment, rfm_segment, net in category_sales:
        key = (category, segment if kind == "kmeans" else rfm_segment)
        totals[key] = totals.get(key, Decimal(0)) + Decimal(net)
    return [(category, segment, net) for (category, segment), net in totals.items()]


def _category_rows(found: list[tuple[str, str, Decimal]]) -> tuple[CategorySegmentSales, ...]:
    by_segment: dict[str, Decimal] = {}
    by_category: dict[str, Decimal] = {}
    for category, segment, net in found:
        by_segment[segment] = by_segment.get(segment, Decimal(0)) + net
        by_category[category] = by_category.get(category, Decimal(0)) + net
    return tuple(
        CategorySegmentSales(
            category=category,
            segment=segment,
            net_sales=_money(net),
            share_of_segment=_share(net, by_segment[segment]),
            share_of_category=_share(net, by_category[category]),
        )
        for category, segment, net in sorted(found, key=lambda row: (row[0], row[1]))
    )
