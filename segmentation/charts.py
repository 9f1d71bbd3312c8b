"""Figures for the Customers page, built from segmentation selector results."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from django.conf import settings
from plotly.subplots import make_subplots

from retail_platform.charts import PALETTE, styled
from segmentation.selectors import (
    CategoryBySegment,
    Movement,
    ScatterPoint,
    ScoreGrid,
    SegmentSummary,
)

HEATMAP_SCALE = [[0.0, "#eff6ff"], [0.5, "#60a5fa"], [1.0, "#1e3a8a"]]


def _symbol() -> str:
    return str(getattr(settings, "CURRENCY_SYMBOL", ""))


def segment_colors(segments: Sequence[str]) -> dict[str, str]:
    """The same colour for a segment on every chart of the page."""
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(segments)}


def segment_sizes_chart(summaries: Sequence[SegmentSummary]) -> go.Figure:
    """Each segment's share of the customers next to its share of net sales: segments whose sales bar
    is taller than their customers bar are worth more than their size."""
    names = [row.segment for row in summaries]
    fig = go.Figure(
        [
            go.Bar(
                x=names,
                y=[row.share_of_customers for row in summaries],
                customdata=[row.customers for row in summaries],
                name="Share of customers",
                marker_color=PALETTE[8],
                hovertemplate="%{x}<br>%{y:.1%} of customers (%{customdata:,})<extra></extra>",
            ),
            go.Bar(
                x=names,
                y=[row.share_of_sales for row in summaries],
                customdata=[float(row.net_sales) for row in summaries],
                name="Share of net sales",
                marker_color=PALETTE[0],
                hovertemplate=f"%{{x}}<br>%{{y:.1%}} of net sales ({_symbol()}%{{customdata:,.0f}})<extra></extra>",
            ),
        ]
    )
    return styled(
        fig,
        barmode="group",
        xaxis={"type": "category", "tickangle": -30, "automargin": True},
        yaxis={"title": {"text": "Share"}, "tickformat": ".0%", "rangemode": "tozero"},
    )


def segment_profile_chart(summaries: Sequence[SegmentSummary]) -> go.Figure:
    """The R, F and M profile of each segment: mean days since the last purchase, mean purchases and
    mean net amount per customer, one panel each (segments without customers are left out)."""
    rows = [row for row in summaries if row.customers]
    names = [row.segment for row in rows]
    color_of = segment_colors([row.segment for row in summaries])
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=(
            "Recency: mean days since last purchase",
            "Frequency: mean purchases",
            "Monetary: mean net amount",
        ),
    )
    panels = (
        ([row.mean_recency_days for row in rows], "%{y:,.0f} days"),
        ([row.mean_frequency for row in rows], "%{y:,.2f} purchases"),
        ([None if row.mean_monetary is None else float(row.mean_monetary) for row in rows], f"{_symbol()}%{{y:,.2f}}"),
    )
    for index, (values, hover) in enumerate(panels, start=1):
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                marker_color=[color_of[name] for name in names],
                showlegend=False,
                hovertemplate=f"%{{x}}<br>{hover}<extra></extra>",
            ),
            row=index,
            col=1,
        )
    fig.update_xaxes(type="category", tickangle=-30, automargin=True)
    fig.update_yaxes(tickprefix=_symbol(), row=3, col=1)
    return styled(fig, height=560, margin={"t": 32})


def rfm_scatter_chart(points: Sequence[ScatterPoint], *, kind: str, segments: Sequence[str]) -> go.Figure:
    """A sample of customers: days since their last purchase against their net amount, coloured by
    segment (one trace per segment, so the legend can hide a segment)."""
    colors = segment_colors(segments)
    fig = go.Figure()
    for name in segments:
        members = [p for p in points if (p.segment if kind == "kmeans" else p.rfm_segment) == name]
        if not members:
            continue
        fig.add_trace(
            go.Scatter(
                x=[p.recency_days for p in members],
                y=[p.monetary for p in members],
                customdata=[p.frequency for p in members],
                mode="markers",
                name=name,
                marker={"color": colors[name], "size": 6, "opacity": 0.7},
                hovertemplate=(
                    f"{name}<br>Recency: %{{x}} days<br>Net amount: {_symbol()}%{{y:,.2f}}"
                    "<br>Purchases: %{customdata}<extra></extra>"
                ),
            )
        )
    return styled(
        fig,
        xaxis={"title": {"text": "Recency (days since the last purchase)"}, "rangemode": "tozero"},
        yaxis={"title": {"text": "Monetary (net amount)"}, "tickprefix": _symbol(), "separatethousands": True},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        height=480,
        margin={"b": 120},
    )


def rfm_grid_chart(grid: ScoreGrid) -> go.Figure:
    """Customers per R score (rows, 5 at the top) and F or M score (columns), counts written in."""
    label = "F" if grid.column == "frequency" else "M"
    x = [f"{label} {score}" for score in grid.column_scores]
    y = [f"R {score}" for score in grid.r_scores]
    z = [list(row) for row in grid.counts]
    fig = go.Figure(
        go.Heatmap(
            x=x,
            y=y,
            z=z,
            text=[[f"{value:,}" for value in row] for row in z],
            texttemplate="%{text}",
            colorscale=HEATMAP_SCALE,
            colorbar={"title": {"text": "Customers"}},
            hovertemplate="%{y}, %{x}<br>%{z:,} customers<extra></extra>",
        )
    )
    return styled(
        fig,
        xaxis={"title": {"text": f"{grid.column.capitalize()} score"}, "type": "category", "side": "bottom"},
        yaxis={
            "title": {"text": "Recency score"},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": list(reversed(y)),
        },
        height=380,
    )


def category_by_segment_chart(data: CategoryBySegment) -> go.Figure:
    """What each segment buys: its net sales split by category (100 % per segment)."""
    segments = [name for name in data.segments if any(row.segment == name for row in data.rows)]
    fig = go.Figure()
    for index, category in enumerate(data.categories):
        share = {row.segment: row.share_of_segment for row in data.rows if row.category == category}
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=segments,
                x=[share.get(name, 0.0) for name in segments],
                name=category,
                marker_color=PALETTE[index % len(PALETTE)],
                hovertemplate=f"%{{y}}<br>{category}: %{{x:.1%}} of the segment's net sales<extra></extra>",
            )
        )
    return styled(
        fig,
        barmode="stack",
        xaxis={"title": {"text": "Share of the segment's net sales"}, "tickformat": ".0%", "range": [0, 1]},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        height=max(300, 34 * len(segments) + 140),
    )


def movement_chart(movement: Movement) -> go.Figure:
    """Customers by segment in the earlier run (rows) and the later one (columns)."""
    matrix = movement.matrix()
    fig = go.Figure(
        go.Heatmap(
            x=list(movement.to_segments),
            y=list(movement.from_segments),
            z=matrix,
            text=[[f"{value:,}" if value else "" for value in row] for row in matrix],
            texttemplate="%{text}",
            colorscale=HEATMAP_SCALE,
            colorbar={"title": {"text": "Customers"}},
            hovertemplate="From %{y}<br>to %{x}<br>%{z:,} customers<extra></extra>",
        )
    )
    return styled(
        fig,
        xaxis={"title": {"text": f"Run #{movement.to_run.id} (later)"}, "type": "category", "tickangle": -30},
        yaxis={
            "title": {"text": f"Run #{movement.from_run.id} (earlier)"},
            "type": "category",
            "autorange": "reversed",
            "automargin": True,
        },
        height=max(360, 34 * len(movement.from_segments) + 160),
    )
