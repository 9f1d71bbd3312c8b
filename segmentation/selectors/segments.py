"""Segments of a run: their names, summaries and customers, and the purchase history the simulator
draws from. They read the active run unless a run id is given, and return frozen dataclasses (or, for
customer lists, a values queryset of `CustomerSegmentRow` dicts that pages and exports paginate or
stream)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
from django.db.models import Avg, Count, F, Q, QuerySet, Sum

from retail_platform.money import money
from retail_platform.postgresql.cursors import binary_results_cursor
from segmentation import rfm
from segmentation.models import CustomerSegment, SegmentationRun, SegmentCell
from segmentation.selectors.runs import Kind, NoSegmentationRun, readable_run, segmentation_run_active_get


def share(part: Decimal | int, whole: Decimal | int) -> float:
    """part / whole as a float; 0 when the whole is not positive."""
    return float(Decimal(part) / Decimal(whole)) if whole and whole > 0 else 0.0


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
    run = readable_run(run_id)
    column = "segment" if kind == "kmeans" else "rfm_segment"
    cube = assignment_cube(run.id)
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
                share_of_customers=share(row["customers"], total_customers) if row else 0.0,
                net_sales=money(row["net_sales"]) if row else money(0),
                share_of_sales=share(row["net_sales"], total_sales) if row else 0.0,
                mean_recency_days=round(float(row["mean_recency"]), 2) if row else None,
                mean_frequency=round(float(row["mean_frequency"]), 2) if row else None,
                mean_monetary=money(row["mean_monetary"]) if row else None,
            )
        )
    return summaries


def assignment_cube(run_id: int) -> list[list[Any]] | None:
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
    run = readable_run(run_id)
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
    run = readable_run(run_id)
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


def segment_purchase_history_get(*, segments: list[str], run_id: int | None = None) -> PurchaseHistory:
    """The purchase history of the customers in any of the named segments (K-Means or RFM names, as
    in segment_customer_ids): the union of the run's saved K-Means x RFM cells that hold them."""
    run = readable_run(run_id)
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
    with binary_results_cursor() as cursor:
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
