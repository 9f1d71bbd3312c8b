"""Figures of the Cohorts and Revenue change pages: the retention triangle, a few cohorts' curves, the
waterfall from one period's net sales to the other's, and each store's contribution."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from analytics.cohorts import Cohort, CohortTable
from analytics.revenue_change import Breakdown, FactorSplit
from retail_platform.charts import HEATMAP_SCALE, PALETTE, figure, heatmap_labels
from retail_platform.formatting import axis_ticks, money, percent

FACTOR_LABELS = {
    "customers": "Customers",
    "transactions_per_customer": "Visits per customer",
    "units_per_transaction": "Units per visit",
    "price_per_unit": "Price per unit",
    "unexplained": "Not split",
    "A": "Period A",
    "B": "Period B",
}
RISE_COLOR = PALETTE[2]
FALL_COLOR = PALETTE[3]
TOTAL_COLOR = PALETTE[0]
MAX_HEATMAP_COHORTS = 24  # the latest ones: older rows are in the table and the API


def cohort_heatmap_chart(table: CohortTable, *, metric: str, cohorts: Sequence[Cohort]) -> go.Figure:
    """The retention triangle: one row per cohort (newest at the bottom), one column per period after
    it; each cell's value written in, in a colour that reads on it. Unknown cells stay empty."""
    rows = [cohort for cohort in cohorts if cohort.customers][-MAX_HEATMAP_COHORTS:]
    width = max((sum(value is not None for value in row.values(metric)) for row in rows), default=0)  # type: ignore[arg-type]
    x = [str(k) for k in range(width)]
    y = [f"{row.cohort} ({row.customers:,})" for row in rows]
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for row in rows:
        values = list(row.values(metric))[:width]  # type: ignore[arg-type]
        z.append([None if value is None else float(value) for value in values])
        text.append(["" if value is None else _cell(value, metric) for value in values])
    known = [[value if value is not None else 0.0 for value in row] for row in z]
    return figure(
        [
            {
                "type": "heatmap",
                "x": x,
                "y": y,
                "z": z,
                "zmin": min((v for row in z for v in row if v is not None), default=0),
                "zmax": max((v for row in z for v in row if v is not None), default=1),
                "text": text,
                "colorscale": HEATMAP_SCALE,
                "showscale": False,
                "hovertemplate": "%{y}, period %{x}: %{text}<extra></extra>",
            }
        ],
        annotations=heatmap_labels(x=x, y=y, z=known, text=text, scale=HEATMAP_SCALE),
        xaxis={"title": {"text": f"{table.period.capitalize()}s since first purchase"}, "type": "category"},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        height=max(260, 26 * len(rows) + 110),
    )


def _cell(value: Any, metric: str) -> str:
    if metric in ("retention", "unbounded"):
        return percent(value, 0)
    return money(Decimal(value), 0)


def cohort_curves_chart(table: CohortTable, *, metric: str, cohorts: Sequence[Cohort]) -> go.Figure:
    """The chosen cohorts' values period after period, one line each (a partly covered last period
    dashed)."""
    traces = []
    for index, cohort in enumerate(cohorts):
        values = [None if value is None else float(value) for value in cohort.values(metric)]  # type: ignore[arg-type]
        known = [k for k, value in enumerate(values) if value is not None]
        traces.append(
            {
                "type": "scatter",
                "x": known,
                "y": [values[k] for k in known],
                "name": f"{cohort.cohort} ({cohort.customers:,})",
                "mode": "lines+markers",
                "line": {"color": PALETTE[index % len(PALETTE)]},
            }
        )
    axis = (
        {"tickformat": ".0%", "rangemode": "tozero"}
        if metric in ("retention", "unbounded")
        else {"rangemode": "tozero"}
    )
    return figure(
        traces,
        xaxis={"title": {"text": f"{table.period.capitalize()}s since first purchase"}, "dtick": 1},
        yaxis={"title": {"text": METRIC_LABELS.get(metric, metric)}, **axis},
    )


METRIC_LABELS = {
    "retention": "Bought in that period",
    "unbounded": "Bought in that period or later",
    "revenue": "Net sales per customer",
    "cumulative_revenue": "Net sales per customer so far",
}


def revenue_waterfall_chart(split: FactorSplit) -> go.Figure:
    """From period A's net sales to period B's: each driver's contribution as a floating bar that rises
    or falls from where the previous one ended (bars with a base: plotly's cartesian bundle has no
    waterfall trace)."""
    steps = split.steps()
    bases: list[float] = []
    heights: list[float] = []
    colors: list[str] = []
    level = 0.0
    for step in steps:
        amount = float(step.amount)
        if step.kind == "total":
            bases.append(0.0)
            heights.append(amount)
            colors.append(TOTAL_COLOR)
            level = amount
        else:
            bases.append(level)
            heights.append(amount)
            colors.append(RISE_COLOR if amount >= 0 else FALL_COLOR)
            level += amount
    return figure(
        [
            {
                "type": "bar",
                "x": [FACTOR_LABELS.get(step.label, step.label) for step in steps],
                "y": heights,
                "base": bases,
                "marker": {"color": colors},
                "text": [money(step.amount) for step in steps],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": [money(step.amount) for step in steps],
                "hovertemplate": "%{x}: %{customdata}<extra></extra>",
            }
        ],
        xaxis={"type": "category"},
        yaxis={
            "title": {"text": "Net sales"},
            **axis_ticks([*bases, *(base + height for base, height in zip(bases, heights, strict=True))], kind="money"),
        },
        showlegend=False,
    )


def store_contributions_chart(stores: Breakdown) -> go.Figure:
    """Each store's change in net sales, sorted, rises and falls coloured; opened and closed stores marked."""
    items = list(reversed(stores.items))  # plotly draws the first bar at the bottom
    marks = {"both": "", "only_a": " (closed)", "only_b": " (opened)"}
    return figure(
        [
            {
                "type": "bar",
                "orientation": "h",
                "y": [item.name + marks[item.presence] for item in items],
                "x": [float(item.change) for item in items],
                "marker": {"color": [RISE_COLOR if item.change >= 0 else FALL_COLOR for item in items]},
                "customdata": [money(item.change) for item in items],
                "hovertemplate": "%{y}: %{customdata}<extra></extra>",
            }
        ],
        xaxis={
            "title": {"text": "Change in net sales"},
            **axis_ticks([item.change for item in items] + [0], kind="money"),
        },
        yaxis={"automargin": True},
        showlegend=False,
        height=max(240, 30 * len(items) + 100),
    )
