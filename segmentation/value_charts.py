"""Figures of the Customers page's value section (segmentation.clv): the holdout check as a cumulative
tracking plot and conditional-expectation bars, the distribution of CLV, and mean P(alive) by how
often and how recently customers bought. Aggregates only: no customer is shown."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from retail_platform.charts import HEATMAP_SCALE, PALETTE, figure, heatmap_labels
from retail_platform.formatting import axis_ticks, money, percent, thousands

ACTUAL_COLOR = PALETTE[8]
MODEL_COLORS = {"bgnbd": PALETTE[0], "pareto_nbd": PALETTE[1]}
MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}
FREQUENCY_BUCKETS = ((0, 0, "0"), (1, 1, "1"), (2, 2, "2"), (3, 4, "3-4"), (5, 9, "5-9"), (10, 10**9, "10+"))
RECENCY_BUCKETS = (
    (0, 30, "0-30"),
    (31, 90, "31-90"),
    (91, 180, "91-180"),
    (181, 365, "181-365"),
    (366, 730, "1-2 years"),
    (731, 10**9, "2 years+"),
)


def tracking_chart(holdout: dict[str, Any]) -> go.Figure:
    """Cumulative repeat purchases week by week, actual against each model's prediction, the holdout
    shaded: how a model fitted on the calibration weeks tracks the weeks it never saw."""
    traces: list[dict[str, Any]] = []
    boundary = None
    for model, check in holdout["by_model"].items():
        weeks = check["tracking"]
        x = [week["last_day"] for week in weeks]
        if not traces:
            traces.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": [week["actual"] for week in weeks],
                    "name": "Actual",
                    "mode": "lines",
                    "line": {"color": ACTUAL_COLOR, "width": 3},
                }
            )
            boundary = next((week["last_day"] for week in weeks if week["in_holdout"]), None)
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": [round(week["predicted"], 1) for week in weeks],
                "name": MODEL_NAMES.get(model, model),
                "mode": "lines",
                "line": {"color": MODEL_COLORS.get(model, PALETTE[2]), "dash": "dash"},
            }
        )
    shapes = []
    if boundary is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": boundary,
                "x1": holdout["holdout"][1],
                "y0": 0,
                "y1": 1,
                "fillcolor": "#e5e7eb",
                "opacity": 0.5,
                "line": {"width": 0},
                "layer": "below",
            }
        )
    return figure(
        traces,
        xaxis={"type": "date", "tickformat": "%b %Y"},
        yaxis={"title": {"text": "Cumulative repeat purchases"}, "rangemode": "tozero"},
        shapes=shapes,
        hovermode="x unified",
        annotations=[
            {
                "text": "Shaded: the holdout, which the models did not see",
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 1.08,
                "showarrow": False,
                "xanchor": "right",
                "font": {"size": 11},
            }
        ],
    )


def conditional_expectation_chart(holdout: dict[str, Any]) -> go.Figure:
    """Mean repeat purchases in the holdout per customer, by their repeat purchases in the calibration
    (0 to 7+): actual against each model's conditional expectation."""
    traces: list[dict[str, Any]] = []
    for index, (model, check) in enumerate(holdout["by_model"].items()):
        buckets = check["by_calibration_repeat_purchases"]
        labels = [bucket["calibration_repeat_purchases"] for bucket in buckets]
        if index == 0:
            traces.append(
                {
                    "type": "bar",
                    "x": labels,
                    "y": [bucket["actual_mean"] for bucket in buckets],
                    "name": "Actual",
                    "marker": {"color": ACTUAL_COLOR},
                    "customdata": [thousands(bucket["customers"]) for bucket in buckets],
                    "hovertemplate": "%{x} in calibration (%{customdata} customers): %{y:.2f}<extra>Actual</extra>",
                }
            )
        traces.append(
            {
                "type": "bar",
                "x": labels,
                "y": [bucket["predicted_mean"] for bucket in buckets],
                "name": MODEL_NAMES.get(model, model),
                "marker": {"color": MODEL_COLORS.get(model, PALETTE[2])},
            }
        )
    return figure(
        traces,
        barmode="group",
        xaxis={"title": {"text": "Repeat purchases, calibration"}, "type": "category"},
        yaxis={"title": {"text": "Mean in the holdout"}, "rangemode": "tozero"},
    )


def clv_distribution_chart(clv: npt.ArrayLike) -> go.Figure:
    """How many customers have each CLV, in twenty bins up to the 99th percentile (the rest in the last)."""
    values = np.asarray(clv, dtype=np.float64)
    top = float(np.quantile(values, 0.99)) if len(values) else 1.0
    edges = np.linspace(0.0, max(top, 1.0), 21)
    counts, _ = np.histogram(np.clip(values, 0, edges[-1]), bins=edges)
    labels = [f"{money(low, 0)} to {money(high, 0)}" for low, high in itertools.pairwise(edges.tolist())]
    return figure(
        [
            {
                "type": "bar",
                "x": [float(low) for low in edges[:-1]],
                "y": counts.tolist(),
                "width": float(edges[1] - edges[0]),
                "offset": 0,
                "marker": {"color": PALETTE[0]},
                "customdata": [[label, thousands(count)] for label, count in zip(labels, counts.tolist(), strict=True)],
                "hovertemplate": "%{customdata[0]}: %{customdata[1]} customers<extra></extra>",
            }
        ],
        xaxis={"title": {"text": "Customer lifetime value"}, **axis_ticks(edges.tolist(), kind="money")},
        yaxis={"title": {"text": "Customers"}, "rangemode": "tozero"},
        showlegend=False,
    )


def p_alive_chart(frequency: npt.ArrayLike, recency_days: npt.ArrayLike, p_alive: npt.ArrayLike) -> go.Figure:
    """Mean P(alive) per repeat purchases (rows) and days since the last purchase (columns), the share
    written in; an empty cell has no customer."""
    frequency_a = np.asarray(frequency)
    recency_a = np.asarray(recency_days)
    alive = np.asarray(p_alive, dtype=np.float64)
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for low_f, high_f, _ in FREQUENCY_BUCKETS:
        row: list[float | None] = []
        labels = []
        for low_r, high_r, _ in RECENCY_BUCKETS:
            chosen = (frequency_a >= low_f) & (frequency_a <= high_f) & (recency_a >= low_r) & (recency_a <= high_r)
            mean = float(alive[chosen].mean()) if chosen.any() else None
            row.append(mean)
            labels.append(percent(mean, 0) if mean is not None else "")
        z.append(row)
        text.append(labels)
    x = [label for *_, label in RECENCY_BUCKETS]
    y = [label for *_, label in FREQUENCY_BUCKETS]
    present = [value for row in z for value in row if value is not None]
    low, high = (min(present), max(present)) if present else (0.0, 1.0)
    known = [[value if value is not None else low for value in row] for row in z]
    return figure(
        [
            {
                "type": "heatmap",
                "x": x,
                "y": y,
                "z": z,
                "zmin": low,
                "zmax": high,
                "text": text,
                "colorscale": HEATMAP_SCALE,
                "showscale": False,
                "hovertemplate": "%{y} repeat purchases, %{x} days since the last: P(alive) %{text}<extra></extra>",
            }
        ],
        annotations=heatmap_labels(x=x, y=y, z=known, text=text, scale=HEATMAP_SCALE),
        xaxis={"title": {"text": "Days since the last purchase"}, "type": "category"},
        yaxis={"title": {"text": "Repeat purchases"}, "type": "category"},
        height=360,
    )
