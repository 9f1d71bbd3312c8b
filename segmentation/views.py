"""The Customers page: the active segmentation run as charts and tables. Viewers see aggregates
only; analysts also get the per-segment customer export (the analyst-only API endpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.views.generic import TemplateView

from analytics.warehouse import SalesFilter, answer_get, overview_get, question_key
from retail_platform import roles
from retail_platform.charts import Chart
from retail_platform.formatting import money, thousands
from retail_platform.pages import ViewerRequiredMixin
from segmentation import charts, rfm, selectors, value_charts
from segmentation.selectors import (
    KINDS,
    Kind,
    NoCustomerValue,
    RunInfo,
    SegmentSummary,
    category_by_segment_get,
    customer_value_model_get,
    rfm_scatter_sample,
    rfm_score_grid_get,
    segment_movement_get,
    segment_summary_list,
    segmentation_run_active_get,
    segmentation_run_list,
    value_table_get,
)

KIND_LABELS: dict[str, str] = {"kmeans": "K-Means segments", "rfm": "RFM segments"}
RFM_DESCRIPTIONS = {rule.segment: rule.description for rule in rfm.SEGMENT_RULES}


@dataclass(frozen=True)
class SegmentRow:
    summary: SegmentSummary
    description: str
    # The segment's colour on every chart (segmentation.charts.SEGMENT_COLORS).
    color: str


@dataclass(frozen=True)
class CutPointRow:
    score: int
    recency: dict[str, Any] | None
    frequency: dict[str, Any] | None
    monetary: dict[str, Any] | None


def _kmeans_description(run: RunInfo, name: str) -> str:
    for cluster in run.clusters:
        if cluster.name == name:
            activity = "Active" if cluster.active else "Lapsed"
            value = "high value" if cluster.high_value else "low value"
            # The centre, not the mean: the table's mean columns average every member.
            return (
                f"{activity}, {value}. Cluster centre: last purchase {thousands(cluster.recency_days)} days ago, "
                f"{thousands(cluster.frequency, 1)} purchases, {money(cluster.monetary)}."
            )
    return ""


def _segment_rows(run: RunInfo, kind: Kind, summaries: list[SegmentSummary]) -> tuple[SegmentRow, ...]:
    return tuple(
        SegmentRow(
            summary=row,
            description=RFM_DESCRIPTIONS.get(row.segment, "")
            if kind == "rfm"
            else _kmeans_description(run, row.segment),
            color=charts.segment_color(row.segment),
        )
        for row in summaries
    )


def _cut_point_rows(cut_points: dict[str, list[dict[str, Any]]]) -> tuple[CutPointRow, ...]:
    by_score = {
        dimension: {int(entry["score"]): entry for entry in cut_points.get(dimension, [])}
        for dimension in ("recency", "frequency", "monetary")
    }
    return tuple(
        CutPointRow(
            score=score,
            recency=by_score["recency"].get(score),
            frequency=by_score["frequency"].get(score),
            monetary=by_score["monetary"].get(score),
        )
        for score in reversed(rfm.SCORES)
    )


def _run_page(run: RunInfo, kind: Kind) -> dict[str, Any]:
    """Everything the page shows about one run. A run never changes once it succeeded, so this is
    cached under the run, the data version (category sales) and the two latest runs (movement)."""
    latest = tuple(info.id for info in segmentation_run_list(limit=2))
    return answer_get(
        f"page:customers:{kind}", question_key(run.id, latest), lambda _version: _run_page_build(run, kind)
    )


def _run_page_build(run: RunInfo, kind: Kind) -> dict[str, Any]:
    summaries = segment_summary_list(kind=kind, run_id=run.id)
    segments = tuple(row.segment for row in summaries)
    grids = [rfm_score_grid_get(column="monetary", run_id=run.id)]
    if run.frequency_informative:
        grids.insert(0, rfm_score_grid_get(column="frequency", run_id=run.id))
    category = category_by_segment_get(kind=kind, run_id=run.id)
    movement = segment_movement_get(kind=kind)
    label = KIND_LABELS[kind]
    page_charts = {
        "sizes": Chart.from_figure(
            charts.segment_sizes_chart(summaries),
            key="segment-sizes",
            title="Share of customers and of net sales per segment",
            description=f"Grouped bar chart of each of the {label}' share of customers and of net sales; "
            "the segment table below lists the same figures.",
        ),
        "profile": Chart.from_figure(
            charts.segment_profile_chart(summaries),
            key="segment-profile",
            title="Mean recency, frequency and monetary value per segment",
            description="Three bar charts: mean days since the last purchase, mean purchases and mean net "
            "amount per customer of each segment.",
        ),
        "scatter": Chart.from_figure(
            charts.rfm_scatter_chart(rfm_scatter_sample(run_id=run.id), kind=kind, segments=segments),
            key="rfm-scatter",
            title="Recency against monetary value (a sample of customers)",
            description="Scatter plot of a random sample of customers: days since the last purchase against "
            "net amount, coloured by segment.",
        ),
        "grids": [
            Chart.from_figure(
                charts.rfm_grid_chart(grid),
                key=f"rfm-grid-{grid.column}",
                title=f"Customers by R and {grid.column[0].upper()} score",
                description=f"Heatmap of customers per recency score and {grid.column} score, counts written in.",
            )
            for grid in grids
        ],
        "category": Chart.from_figure(
            charts.category_by_segment_chart(category),
            key="category-by-segment",
            title="What each segment buys: share of its net sales by category",
            description="Stacked bar chart of each segment's net sales split by category.",
        )
        if category.rows
        else None,
        "movement": Chart.from_figure(
            charts.movement_chart(movement),
            key="movement",
            title=f"Customers moving from run #{movement.from_run.id} to run #{movement.to_run.id}",
            description="Heatmap of customers by their segment in the earlier run (rows) and the later run (columns).",
        )
        if movement is not None
        else None,
    }
    return {
        "segments": _segment_rows(run, kind, summaries),
        "cut_point_rows": _cut_point_rows(run.cut_points),
        "movement": movement,
        "charts": page_charts,
        "value": _value_section(run, kind),
    }


def _value_section(run: RunInfo, kind: Kind) -> dict[str, Any] | None:
    """The customer-value fit of the run as the page shows it: the holdout check as charts, the
    per-segment totals, the distribution of CLV and P(alive) by frequency and recency (aggregates)."""
    try:
        info = customer_value_model_get(run_id=run.id)
    except NoCustomerValue:
        return None
    if not info.fitted:
        return {"info": info}
    report = info.report
    holdout = report["holdout"]
    table = value_table_get(run_id=run.id, horizon_days=info.horizon_days, discount_rate=info.annual_discount_rate)
    recency = np.asarray(table.tenure_days) - np.asarray(table.recency_days)  # days since the last purchase
    return {
        "info": info,
        "holdout": holdout,
        "chosen_name": value_charts.MODEL_NAMES.get(info.chosen, info.chosen),
        "segments": info.segments.get(kind, []),
        "charts": {
            "tracking": Chart.from_figure(
                value_charts.tracking_chart(holdout),
                key="clv-tracking",
                title="Repeat purchases, actual against predicted, week by week",
                description="Line chart of cumulative repeat purchases: actual, and each model's prediction "
                "fitted on the calibration period; the holdout is shaded.",
            ),
            "conditional": Chart.from_figure(
                value_charts.conditional_expectation_chart(holdout),
                key="clv-conditional",
                title="Holdout purchases by calibration purchases",
                description="Grouped bar chart: mean repeat purchases in the holdout of the customers with 0 to "
                "7+ repeat purchases in the calibration period, actual and predicted by each model.",
            ),
            "distribution": Chart.from_figure(
                value_charts.clv_distribution_chart(table.clv),
                key="clv-distribution",
                title=f"Customer lifetime value over the next {info.horizon_days} days",
                description="Histogram of the customers' predicted lifetime value.",
            ),
            "p_alive": Chart.from_figure(
                value_charts.p_alive_chart(table.frequency, recency, table.p_alive),
                key="clv-p-alive",
                title="P(alive) by repeat purchases and days since the last purchase",
                description="Heat map of the customers' mean probability of being still active, by their repeat "
                "purchases (rows) and the days since their last purchase (columns), the share written in.",
            ),
        },
    }


class CustomersView(ViewerRequiredMixin, TemplateView):
    template_name = "segmentation/customers.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requested = self.request.GET.get("kind", "")
        kind: Kind = "rfm" if requested == "rfm" else "kmeans"
        run = segmentation_run_active_get()
        context.update(
            kind=kind,
            # An unknown ?kind= falls back to K-Means, and the page says so.
            kind_unknown=requested if requested not in ("", *KINDS) else "",
            kind_label=KIND_LABELS[kind],
            kinds=[{"value": value, "label": KIND_LABELS[value], "selected": value == kind} for value in KINDS],
            run=run,
            definitions=rfm.DEFINITIONS,
        )
        if run is None:
            latest = segmentation_run_list(limit=1)
            context.update(
                has_sales=overview_get(sales_filter=SalesFilter()).first_date is not None,
                latest_run=latest[0] if latest else None,
            )
            return context
        context.update(_run_page(run, kind))
        if context.get("value") and context["value"]["info"].fitted and roles.user_is_analyst(self.request.user):
            # Customer-level: read per request for analysts, never in the page cache every role shares.
            context["at_risk"] = selectors.customer_value_list(run_id=run.id, ordering="-value_at_risk")[:10]
        return context
