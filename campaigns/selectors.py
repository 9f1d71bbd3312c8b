"""Reads for the simulator: the active segmentation's segments, a segment's history (order values,
baseline rate, margin from cost) as the refit saved it with the run, the targeted customers, and saved
scenarios."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import QuerySet

from analytics.warehouse import ANY_DATA_VERSION, answer_get, question_key
from campaigns.models import Scenario
from campaigns.simulation import SegmentStats
from segmentation import selectors as segmentation_selectors


@dataclass(frozen=True)
class ActiveSegmentation:
    run_id: int
    # Only lines dated before this day count (the run's as-of date).
    as_of: datetime.date
    # K-Means names and RFM segment names present in the run (the two sets never share a name).
    segment_names: tuple[str, ...]


@dataclass(frozen=True)
class SegmentHistory:
    segments: tuple[str, ...]
    run_id: int
    as_of: datetime.date
    customers: int
    # Net value of each purchase (one invoice, returns excluded) before the as-of date.
    order_values: npt.NDArray[np.float64] = field(repr=False, compare=False)
    # Per customer with a purchase before the as-of date: days from the last one to the as-of date
    # (1 = the day before). The baseline rate of any horizon is read from it.
    days_since_purchase: npt.NDArray[np.int64] = field(repr=False, compare=False)
    # Purchase lines that carry cost, and 1 - cost / net over them (None when no line has cost).
    cost_lines: int
    margin_from_cost: float | None

    @property
    def stats(self) -> SegmentStats:
        return SegmentStats(customers=self.customers, order_values=self.order_values)

    def recent_buyers(self, horizon_days: int) -> int:
        """Customers who bought in the horizon_days before the as-of date."""
        return int(np.count_nonzero(self.days_since_purchase <= horizon_days))

    def baseline_rate(self, horizon_days: int) -> float:
        return self.recent_buyers(horizon_days) / self.customers if self.customers else 0.0

    def baseline_source(self, horizon_days: int) -> str:
        first_day = self.as_of - datetime.timedelta(days=horizon_days)
        last_day = self.as_of - datetime.timedelta(days=1)
        return (
            f"history: {self.recent_buyers(horizon_days):,} of the segment's {self.customers:,} customers bought "
            f"in the {horizon_days} days {first_day:%Y-%m-%d} to {last_day:%Y-%m-%d} "
            f"(ending at the segmentation run's as-of date)"
        )

    @property
    def margin_source(self) -> str:
        if self.margin_from_cost is None:
            return "the segment's purchases carry no cost data"
        return f"history: 1 - cost / net sales over the segment's {self.cost_lines:,} purchase lines that carry cost"

    @property
    def order_value_source(self) -> str:
        return (
            f"history: mean net value of the segment's {self.order_values.size:,} purchases (invoices, returns "
            f"excluded) before {self.as_of:%Y-%m-%d}; the Monte Carlo draws from these values"
        )

    @property
    def customers_source(self) -> str:
        return f"customers in {', '.join(self.segments)} in segmentation run #{self.run_id}"


def active_segmentation_get() -> ActiveSegmentation | None:
    """The active segmentation run and the segment names it offers (K-Means names by cluster, then
    the RFM segments best first); None when there is no run with customer assignments to read."""
    run = segmentation_selectors.segmentation_run_active_get()
    if run is None or run.status != "succeeded" or run.assignments_pruned:
        return None
    # A succeeded run has an as-of date; the day after it was made is the fallback for an old one.
    as_of = run.as_of or (run.created_at.date() + datetime.timedelta(days=1))
    names = run.segment_names + segmentation_selectors.segment_names_list().rfm
    return ActiveSegmentation(run_id=run.id, as_of=as_of, segment_names=names)


def _customers_query(*, active: ActiveSegmentation, segments: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    """The SQL (and parameters) of the targeted customers' ids, from segmentation's selector."""
    queryset = segmentation_selectors.segment_customer_ids(segments=list(segments), run_id=active.run_id)
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def segment_history_get(*, active: ActiveSegmentation, segments: tuple[str, ...]) -> SegmentHistory:
    """The targeted customers' history as the segmentation refit saved it with the run (a few rows per
    segment; the transaction lines are not read). Cached per run in the one cache, in this process
    only: megabytes of order values cost more to share through the database than to read again."""
    names = tuple(sorted(segments))
    return answer_get(
        "campaigns:history",
        question_key(active.run_id, names),
        lambda _version: _segment_history_read(active=active, segments=names),
        data_version=ANY_DATA_VERSION,  # a run's saved history never changes
        shared=False,
    )


def _segment_history_read(*, active: ActiveSegmentation, segments: tuple[str, ...]) -> SegmentHistory:
    saved = segmentation_selectors.segment_purchase_history_get(segments=list(segments), run_id=active.run_id)
    margin = None
    if saved.cost_lines and saved.cost is not None and saved.net_with_cost and saved.net_with_cost > 0:
        margin = float(min(Decimal(1), max(Decimal(0), 1 - saved.cost / saved.net_with_cost)))
    return SegmentHistory(
        segments=segments,
        run_id=active.run_id,
        as_of=active.as_of,
        customers=saved.customers,
        order_values=saved.order_values,
        days_since_purchase=saved.days_since_purchase,
        cost_lines=saved.cost_lines,
        margin_from_cost=margin,
    )


def segment_customers(*, active: ActiveSegmentation, segments: tuple[str, ...]) -> list[tuple[int, str]]:
    """The targeted customers: (pk, id as in the retailer's files), in that id's order."""
    customers_sql, customers_params = _customers_query(active=active, segments=segments)
    sql = f"""
        SELECT c.id, c.external_id FROM analytics_customer c
        WHERE c.id IN (SELECT customer_id FROM ({customers_sql}) AS chosen)
        ORDER BY c.external_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, customers_params)
        return [(pk, external) for pk, external in cursor.fetchall()]


def scenario_list() -> QuerySet[Scenario]:
    return Scenario.objects.select_related("created_by").order_by("-created_at", "-id")


def scenario_get(*, scenario_id: int) -> Scenario | None:
    return scenario_list().filter(pk=scenario_id).first()
