"""Figures for the campaign simulator page, built from campaigns.simulation results."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from campaigns.simulation import DiscountCurve, SimulationResult
from retail_platform.charts import PALETTE, figure
from retail_platform.formatting import axis_ticks, money, money_short, percent, thousands

HISTOGRAM_BINS = 40


def _vertical_line(x: float, line: dict[str, Any]) -> dict[str, Any]:
    """A line across the whole height of the plot at x (what add_vline draws)."""
    return {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain", "line": line}


def simulated_profit_histogram(result: SimulationResult) -> go.Figure:
    """How the incremental profit spread over the Monte Carlo runs (runs counted in 40 equal bins,
    here rather than in the browser, so each bin's range reads like every other amount), with the
    5th/50th/95th percentiles and the break-even line (profit 0) marked. The percentiles are named in
    the legend, with their amounts: as labels over the plot they overlapped when close together."""
    profits = np.asarray(result.simulated_profits, dtype=float)
    counts, edges = np.histogram(profits, bins=HISTOGRAM_BINS) if profits.size else (np.zeros(0), np.zeros(1))
    top = float(counts.max(initial=1))
    markers = (
        (result.profit_p5, "5th percentile", "dot", PALETTE[8]),
        (result.profit_p50, "Median", "solid", PALETTE[1]),
        (result.profit_p95, "95th percentile", "dash", PALETTE[8]),
    )
    lines = [
        {
            "type": "scatter",
            "x": [value, value],
            "y": [0, top],
            "mode": "lines",
            "name": f"{label}: {money_short(value)}",
            "line": {"dash": dash, "color": color, "width": 2},
            "hovertemplate": f"{label}: {money(value)}<extra></extra>",
        }
        for value, label, dash, color in markers
    ]
    return figure(
        [
            {
                "type": "bar",
                "x": ((edges[:-1] + edges[1:]) / 2).tolist(),
                "y": counts.tolist(),
                "width": np.diff(edges).tolist(),
                "customdata": [
                    [money_short(low), money_short(high), thousands(count)]
                    for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True)
                ],
                "name": "Simulated runs",
                "marker": {"color": PALETTE[0]},
                "showlegend": False,
                "hovertemplate": "Profit %{customdata[0]} to %{customdata[1]}<br>%{customdata[2]} runs<extra></extra>",
            },
            *lines,
        ],
        shapes=[_vertical_line(0, {"color": PALETTE[3], "width": 1})],
        xaxis={"title": {"text": "Incremental profit per run"}, **axis_ticks(edges.tolist(), kind="money")},
        yaxis={"title": {"text": "Runs"}, **axis_ticks(counts.tolist(), count=4)},
        bargap=0.05,
        margin={"t": 16},
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
    top = float(discounts.max(initial=0.5))
    return figure(
        [
            {
                "type": "scatter",
                "x": discounts,
                "y": profits,
                "mode": "lines",
                "name": "Expected incremental profit",
                "line": {"color": PALETTE[0], "width": 3},
                "customdata": [
                    [percent(discount, 0), money(profit), percent(rate)]
                    for discount, profit, rate in zip(discounts, profits, curve.response_rates, strict=True)
                ],
                "hovertemplate": (
                    "Discount %{customdata[0]}<br>Profit %{customdata[1]}<br>Response %{customdata[2]}<extra></extra>"
                ),
            },
            {
                "type": "scatter",
                "x": [curve.best_discount],
                "y": [curve.best_profit],
                "mode": "markers",
                "name": f"Best discount: {percent(curve.best_discount, 0)}",
                "marker": {"color": PALETTE[2], "size": 14, "symbol": "star"},
                "cliponaxis": False,
                "customdata": [[percent(curve.best_discount, 0), money(curve.best_profit)]],
                "hovertemplate": "Best discount %{customdata[0]}<br>Profit %{customdata[1]}<extra></extra>",
            },
            {
                "type": "scatter",
                "x": [chosen_discount],
                "y": [chosen_profit],
                "mode": "markers",
                "name": f"Simulated: {percent(chosen_discount, 0)}",
                "marker": {"color": PALETTE[1], "size": 11, "symbol": "circle"},
                "customdata": [[percent(chosen_discount, 0), money(chosen_profit)]],
                "hovertemplate": "Simulated discount %{customdata[0]}<br>Profit %{customdata[1]}<extra></extra>",
            },
        ],
        shapes=[zero_line],
        xaxis={"title": {"text": "Discount"}, **axis_ticks([top], kind="percent", count=6), "range": [0, top]},
        yaxis={"title": {"text": "Expected incremental profit"}, **axis_ticks(profits.tolist(), kind="money")},
        margin={"t": 40},
    )
