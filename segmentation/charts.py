"""Figures for the Customers page, built from segmentation selector results."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from retail_platform.charts import HEATMAP_SCALE, PALETTE, figure, heatmap_labels, scale_color
from retail_platform.formatting import axis_ticks, money, percent, thousands
from segmentation.selectors import (
    CategoryBySegment,
    Movement,
    ScatterPoint,
    ScoreGrid,
    SegmentSummary,
)

# One fixed colour per segment name, the same on every chart and page. The 11 RFM segments run from
# greens (best) through sand and reds (slipping) to purple and grey (gone); the K-Means names take
# blues (active, high value), pinks (active, low value), oranges (lapsed, high value) and dark
# purple and grey (lapsed, low value). All 21 differ by at least 18 CIE76 units (test_charts).
SEGMENT_COLORS: dict[str, str] = {
    "Champions": "#1b7837",
    "Loyal Customers": "#5aae61",
    "Potential Loyalists": "#01665e",
    "New Customers": "#35978f",
    "Promising": "#80cdc1",
    "Need Attention": "#dfc27d",
    "About To Sleep": "#f4a582",
    "At Risk": "#d6604d",
    "Can't Lose Them": "#b2182b",
    "Hibernating": "#8073ac",
    "Lost": "#878787",
    "VIP": "#08306b",
    "Big Spenders": "#2171b5",
    "Regulars": "#6baed6",
    "Newcomers": "#e7298a",
    "Light Buyers": "#f1b6da",
    "Occasional Buyers": "#8c510a",
    "Slipping Big Spenders": "#e08214",
    "Fading Regulars": "#fdb863",
    "Dormant": "#542788",
    "Inactive": "#4d4d4d",
}
NUMBERED_NAME = re.compile(r"^(?P<base>.+) (?P<number>[0-9]+)$")


def segment_color(name: str) -> str:
    """A segment's colour. A numbered K-Means name ("Dormant 2") takes a lighter shade of its
    group's last name; a name this table does not know, a colour of the house palette chosen by
    its text (so it stays the same from page to page)."""
    if name in SEGMENT_COLORS:
        return SEGMENT_COLORS[name]
    numbered = NUMBERED_NAME.match(name)
    if numbered and numbered["base"] in SEGMENT_COLORS:
        return scale_color([[0, SEGMENT_COLORS[numbered["base"]]], [1, "#ffffff"]], 0.2 * int(numbered["number"]))
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def segment_colors(segments: Sequence[str]) -> dict[str, str]:
    return {name: segment_color(name) for name in segments}


def segment_sizes_chart(summaries: Sequence[SegmentSummary]) -> go.Figure:
    """Each segment's share of the customers next to its share of net sales: segments whose sales bar
    is taller than their customers bar are worth more than their size."""
    names = [row.segment for row in summaries]
    return figure(
        [
            {
                "type": "bar",
                "x": names,
                "y": [row.share_of_customers for row in summaries],
                "customdata": [[percent(row.share_of_customers), thousands(row.customers)] for row in summaries],
                "name": "Share of customers",
                "marker": {"color": PALETTE[8]},
                "hovertemplate": "%{x}<br>%{customdata[0]} of customers (%{customdata[1]})<extra></extra>",
            },
            {
                "type": "bar",
                "x": names,
                "y": [row.share_of_sales for row in summaries],
                "customdata": [[percent(row.share_of_sales), money(row.net_sales)] for row in summaries],
                "name": "Share of net sales",
                "marker": {"color": PALETTE[0]},
                "hovertemplate": "%{x}<br>%{customdata[0]} of net sales (%{customdata[1]})<extra></extra>",
            },
        ],
        barmode="group",
        xaxis={"type": "category", "tickangle": -30, "automargin": True},
        yaxis={
            "title": {"text": "Share"},
            **axis_ticks([max(row.share_of_customers, row.share_of_sales) for row in summaries], kind="percent"),
            "rangemode": "tozero",
        },
    )


# Short enough for a 375 px phone at 13 px (the figure's caption says they are R, F and M).
PROFILE_PANELS = (
    "Mean days since the last purchase",
    "Mean purchases",
    "Mean net amount",
)
# Three stacked panels sharing the x axis, 0.08 of the height apart (as make_subplots lays them).
PROFILE_GAP = 0.08


def segment_profile_chart(summaries: Sequence[SegmentSummary]) -> go.Figure:
    """The R, F and M profile of each segment: mean days since the last purchase, mean purchases and
    mean net amount per customer, one panel each (segments without customers are left out)."""
    rows = [row for row in summaries if row.customers]
    names = [row.segment for row in rows]
    color_of = segment_colors([row.segment for row in summaries])
    recency = [row.mean_recency_days for row in rows]
    frequency = [row.mean_frequency for row in rows]
    monetary = [None if row.mean_monetary is None else float(row.mean_monetary) for row in rows]
    panels: tuple[tuple[list[Any], list[str], dict[str, Any]], ...] = (
        (recency, [f"{thousands(value)} days" for value in recency], axis_ticks(recency, count=3)),
        (frequency, [f"{thousands(value, 2)} purchases" for value in frequency], axis_ticks(frequency, count=3)),
        (monetary, [money(value) for value in monetary], axis_ticks(monetary, kind="money", count=3)),
    )
    height = (1 - PROFILE_GAP * (len(panels) - 1)) / len(panels)
    traces, layout, titles = [], {}, []
    for index, (values, hover, y_style) in enumerate(panels):
        # Panel 1 at the top; plotly names the axes x, x2, x3 (in traces) and xaxis, xaxis2 (in layout).
        suffix = "" if index == 0 else str(index + 1)
        bottom = round((len(panels) - 1 - index) * (height + PROFILE_GAP), 6)
        top = round(bottom + height, 6)
        traces.append(
            {
                "type": "bar",
                "x": names,
                "y": values,
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "customdata": hover,
                "marker": {"color": [color_of[name] for name in names]},
                "showlegend": False,
                "hovertemplate": "%{x}<br>%{customdata}<extra></extra>",
            }
        )
        last = index == len(panels) - 1
        layout[f"xaxis{suffix}"] = {
            "anchor": f"y{suffix}",
            "domain": [0.0, 1.0],
            "type": "category",
            "tickangle": -30,
            "automargin": True,
            # Only the bottom panel labels the segments; the others share its axis.
            **({} if last else {"matches": f"x{len(panels)}", "showticklabels": False}),
        }
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [bottom, top], **y_style}
        titles.append(
            {
                "text": PROFILE_PANELS[index],
                "x": 0.5,
                "y": top,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
    return figure(traces, annotations=titles, height=560, margin={"t": 28}, **layout)


def rfm_scatter_chart(points: Sequence[ScatterPoint], *, kind: str, segments: Sequence[str]) -> go.Figure:
    """A sample of customers: days since their last purchase against their net amount, coloured by
    segment (one trace per segment, so the legend can hide a segment)."""
    colors = segment_colors(segments)
    members: dict[str, list[ScatterPoint]] = {name: [] for name in segments}
    for point in points:
        members.get(point.segment if kind == "kmeans" else point.rfm_segment, []).append(point)
    traces = [
        {
            "type": "scatter",
            "x": [p.recency_days for p in group],
            "y": [p.monetary for p in group],
            # Whole days and purchases read alike through plotly's "," format; the amount is preformatted.
            "customdata": [[money(p.monetary), p.frequency] for p in group],
            "mode": "markers",
            "name": name,
            "marker": {"color": colors[name], "size": 6, "opacity": 0.7},
            "hovertemplate": (
                f"{name}<br>Last purchase: %{{x:,}} days ago<br>Net amount: %{{customdata[0]}}"
                "<br>Purchases: %{customdata[1]:,}<extra></extra>"
            ),
        }
        for name, group in members.items()
        if group
    ]
    return figure(
        traces,
        xaxis={
            "title": {"text": "Days since the last purchase"},
            **axis_ticks([p.recency_days for p in points]),
            "rangemode": "tozero",
        },
        yaxis={"title": {"text": "Net amount"}, **axis_ticks([p.monetary for p in points], kind="money")},
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
    text = [[thousands(value) for value in row] for row in z]
    values = [value for row in z for value in row]
    return figure(
        [
            {
                "type": "heatmap",
                "x": x,
                "y": y,
                "z": z,
                "zmin": min(values, default=0),
                "zmax": max(values, default=0),
                "text": text,
                "colorscale": HEATMAP_SCALE,
                "showscale": False,
                "hovertemplate": "%{y}, %{x}<br>%{text} customers<extra></extra>",
            }
        ],
        annotations=heatmap_labels(x=x, y=y, z=z, text=text, scale=HEATMAP_SCALE),
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
    present = {row.segment for row in data.rows}
    segments = [name for name in data.segments if name in present]
    share = {(row.category, row.segment): row.share_of_segment for row in data.rows}
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "y": segments,
            "x": [share.get((category, name), 0.0) for name in segments],
            "customdata": [percent(share.get((category, name), 0.0)) for name in segments],
            "name": category,
            "marker": {"color": PALETTE[index % len(PALETTE)]},
            "hovertemplate": f"%{{y}}<br>{category}: %{{customdata}} of the segment's net sales<extra></extra>",
        }
        for index, category in enumerate(data.categories)
    ]
    height = max(300, 34 * len(segments) + 140)
    legend_rows = -(-len(data.categories) // 2)
    return figure(
        traces,
        barmode="stack",
        xaxis={
            "title": {"text": "Share of the segment's net sales"},
            **axis_ticks([1], kind="percent"),
            "range": [0, 1],
        },
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        height=height,
        # On a phone the one-line legend wrapped into a scrolling column taller than the bars, and the
        # segment names took half the width: the legend goes under the chart in columns of 150 px,
        # the names get smaller, and the axis title (the figure's caption says it) goes.
        meta={
            "narrow": {
                "legend": {
                    "orientation": "h",
                    "xref": "container",
                    "x": 0,
                    "yref": "container",
                    "y": 0,
                    "yanchor": "bottom",
                    "entrywidth": 150,
                    "entrywidthmode": "pixels",
                    "font": {"size": 11},
                },
                "yaxis": {"tickfont": {"size": 10}},
                "xaxis": {"title": {"text": ""}},
                "margin": {"t": 16, "b": 40 + 20 * legend_rows},
                "height": height + 20 * legend_rows,
            }
        },
    )


def movement_chart(movement: Movement) -> go.Figure:
    """Customers by segment in the earlier run (rows) and the later one (columns)."""
    matrix = movement.matrix()
    values = [value for row in matrix for value in row]
    x, y = list(movement.to_segments), list(movement.from_segments)
    return figure(
        [
            {
                "type": "heatmap",
                "x": x,
                "y": y,
                "z": matrix,
                "zmin": min(values, default=0),
                "zmax": max(values, default=0),
                "customdata": [[thousands(value) for value in row] for row in matrix],
                "colorscale": HEATMAP_SCALE,
                "showscale": False,
                "hovertemplate": "From %{y}<br>to %{x}<br>%{customdata} customers<extra></extra>",
            }
        ],
        annotations=heatmap_labels(
            x=x,
            y=y,
            z=matrix,
            text=[[thousands(value) if value else "" for value in row] for row in matrix],
            scale=HEATMAP_SCALE,
        ),
        xaxis={"title": {"text": f"Run #{movement.to_run.id} (later)"}, "type": "category", "tickangle": -30},
        yaxis={
            "title": {"text": f"Run #{movement.from_run.id} (earlier)"},
            "type": "category",
            "autorange": "reversed",
            "automargin": True,
        },
        height=max(360, 34 * len(movement.from_segments) + 160),
    )
