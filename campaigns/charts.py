"""Figures for the campaign simulator page, built from campaigns.simulation results."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from django.conf import settings

from campaigns.simulation import DiscountCurve, SimulationResult
from retail_platform.charts import PALETTE, styled

HISTOGRAM_BINS = 40


def _money_axis() -> dict[str, object]:
    return {"tickprefix": str(getattr(settings, "CURRENCY_SYMBOL", "")), "separatethousands": True}


def simulated_profit_histogram(result: SimulationResult) -> go.Figure:
    """How the incremental profit spread over the Monte Carlo runs, with the 5th/50th/95th
    percentiles and the break-even line (profit 0) marked."""
    profits = np.asarray(result.simulated_profits, dtype=float)
    fig = go.Figure(
        go.Histogram(
            x=profits,
            nbinsx=HISTOGRAM_BINS,
            name="Simulated runs",
            marker={"color": PALETTE[0]},
            hovertemplate="Profit %{x}<br>%{y} runs<extra></extra>",
        )
    )
    markers = (
        (result.profit_p5, "5th pct", "dot", PALETTE[8]),
        (result.profit_p50, "median", "solid", PALETTE[1]),
        (result.profit_p95, "95th pct", "dot", PALETTE[8]),
    )
    for value, label, dash, color in markers:
        fig.add_vline(
            x=value,
            line={"dash": dash, "color": color, "width": 2},
            annotation={"text": label, "font": {"size": 11}},
            annotation_position="top",
        )
    fig.add_vline(x=0, line={"color": PALETTE[3], "width": 1})
    return styled(
        fig,
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
    fig = go.Figure(
        go.Scatter(
            x=discounts,
            y=profits,
            mode="lines",
            name="Expected incremental profit",
            line={"color": PALETTE[0], "width": 3},
            customdata=np.asarray(curve.response_rates, dtype=float),
            hovertemplate="Discount %{x:.0%}<br>Profit %{y:,.0f}<br>Response %{customdata:.1%}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[curve.best_discount],
            y=[curve.best_profit],
            mode="markers+text",
            name=f"Best discount: {curve.best_discount:.0%}",
            marker={"color": PALETTE[2], "size": 14, "symbol": "star"},
            text=[f"best {curve.best_discount:.0%}"],
            textposition="top right",
            cliponaxis=False,
            hovertemplate="Best discount %{x:.0%}<br>Profit %{y:,.0f}<extra></extra>",
        )
    )
    chosen_profit = float(np.interp(chosen_discount, discounts, profits)) if discounts.size else 0.0
    fig.add_trace(
        go.Scatter(
            x=[chosen_discount],
            y=[chosen_profit],
            mode="markers",
            name=f"Simulated: {chosen_discount:.0%}",
            marker={"color": PALETTE[1], "size": 11, "symbol": "circle"},
            hovertemplate="Simulated discount %{x:.0%}<br>Profit %{y:,.0f}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": PALETTE[3], "width": 1})
    return styled(
        fig,
        xaxis={"title": {"text": "Discount"}, "tickformat": ".0%", "range": [0, float(discounts.max(initial=0.5))]},
        yaxis={"title": {"text": "Expected incremental profit"}, **_money_axis()},
        margin={"t": 40},
    )
