"""Breakdowns of a run's customers for the Customers page and the API: the R x F and R x M score grids,
the RFM cut points, a reproducible sample for the scatter plot, and net sales per category and
segment (from the customers' category nets in the read model, never the lines)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
from django.db import connection
from django.db.models import Count

from analytics.warehouse import SalesFilter, answer_get, customer_category_nets_get, dimensions_get, question_key
from retail_platform.money import money
from segmentation import rfm
from segmentation.models import CustomerSegment, SegmentationRun
from segmentation.selectors.runs import Kind, RunInfo, readable_run
from segmentation.selectors.segments import assignment_cube, share

SCATTER_SAMPLE = 2_000
SCATTER_SEED = 42


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
    run = readable_run(run_id)
    score_field = "f_score" if column == "frequency" else "m_score"
    cube = assignment_cube(run.id)
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
    return readable_run(run_id).cut_points


def frequency_informative_get(*, run_id: int | None = None) -> bool:
    """False when every customer bought equally often (frequency then carries no information)."""
    return bool(readable_run(run_id).frequency_informative)


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
    run = readable_run(run_id)
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
    run = readable_run(run_id)
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
            net_sales=money(net),
            share_of_segment=share(net, by_segment[segment]),
            share_of_category=share(net, by_category[category]),
        )
        for category, segment, net in sorted(found, key=lambda row: (row[0], row[1]))
    )
