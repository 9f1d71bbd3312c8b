"""Figures for the campaign simulator page, built from campaigns.simulation results."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from campaigns.simulation import DiscountCurve, SimulationResult
from retail_platform.charts import PALETTE, figure
from retail_platform.formatting import currency_symbol

HISTOGRAM_BINS = 40


def _money_axis() -> dict[str, object]:
    return {"tickprefix": currency_symbol(), "separatethousands": True}


def _vertical_line(x: float, line: dict[str, Any]) -> dict[str, Any]:
    """A line across the whole height of the plot at x (what add_vline draws)."""
    return {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain", "line": line}


def simulated_profit_histogram(result: SimulationResult) -> go.Figure:
    """How the incremental profit spread over the Monte Carlo runs, with the 5th/50th/95th
    percentiles and the break-even line (profit 0) marked."""
    markers = (
        (result.profit_p5, "5th pct", "dot", PALETTE[8]),
        (result.profit_p50, "median", "solid", PALETTE[1]),
        (result.profit_p95, "95th pct", "dot", PALETTE[8]),
    )
    shapes = [_vertical_line(value, {"dash": dash, "color": color, "width": 2}) for value, _, dash, color in markers]
    shapes.append(_vertical_line(0, {"color": PALETTE[3], "width": 1}))
    labels = [
        {
            "text": label,
            "font": {"size": 11},
            "x": value,
            "xref": "x",
            "xanchor": "center",
            "y": 1,
            "yref": "y domain",
            "yanchor": "bottom",
            "showarrow": False,
        }
        for value, label, _, _ in markers
    ]
    return figure(
        [
            {
                "type": "histogram",
                "x": np.asarray(result.simulated_profits, dtype=float),
                "nbinsx": HISTOGRAM_BINS,
                "name": "Simulated runs",
                "marker": {"color": PALETTE[0]},
                "hovertemplate": "Profit %{x}<br>%{y} runs<extra></extra>",
            }
        ],
        shapes=shapes,
        annotations=labels,
        xaxis={"title": {"text": "Incremental profit per run"}, **_money_axis()},
        yaxis={"title": {"text": "Runs"}},
        bargap=0.05,
        showlegend=False,
        margin={"t": 32},
    )


def profit_by_discount_chart(curve: DiscountCurve, *, chosen_discount: float) -> go.Figure:
    """Expected incremental profit at each discount from 0 to 50 %, the best discount marked and
    the one simulated shown for comparison."""
    discounts = np.asarray(curve.discounts, dtype=float)
    profits = np.asarray(curve.incremental_profits, dtype=float)
    chosen_profit = float(np.interp(chosen_discount, discounts, profits)) if discounts.size else 0.0
    zero_line = {
        "type": "line",
        "x0": 0,
        "x1": 1,
        "xref": "x domain",
        "y0": 0,
        "y1": 0,
        "yref": "y",
        "line": {"color": PALETTE[3], "width": 1},
    }
    return figure(
        [
            {
                "type": "scatter",
                "x": discounts,
                "y": profits,
                "mode": "lines",
                "name": "Expected incremental profit",
                "line": {"color": PALETTE[0], "width": 3},
                "customdata": np.asarray(curve.response_rates, dtype=float),
                "hovertemplate": "Discount %{x:.0%}<br>Profit %{y:,.0f}<br>Response %{customdata:.1%}<extra></extra>",
            },
            {
                "type": "scatter",
                "x": [curve.best_discount],
                "y": [curve.best_profit],
                "mode": "markers+text",
                "name": f"Best discount: {curve.best_discount:.0%}",
                "marker": {"color": PALETTE[2], "size": 14, "symbol": "star"},
                "text": [f"best {curve.best_discount:.0%}"],
                "textposition": "top right",
                "cliponaxis": False,
                "hovertemplate": "Best discount %{x:.0%}<br>Profit %{y:,.0f}<extra></extra>",
            },
            {
                "type": "scatter",
                "x": [chosen_discount],
                "y": [chosen_profit],
                "mode": "markers",
                "name": f"Simulated: {chosen_discount:.0%}",
                "marker": {"color": PALETTE[1], "size": 11, "symbol": "circle"},
                "hovertemplate": "Simulated discount %{x:.0%}<br>Profit %{y:,.0f}<extra></extra>",
            },
        ],
        shapes=[zero_line],
        xaxis={"title": {"text": "Discount"}, "tickformat": ".0%", "range": [0, float(discounts.max(initial=0.5))]},
        yaxis={"title": {"text": "Expected incremental profit"}, **_money_axis()},
        margin={"t": 40},
    )
