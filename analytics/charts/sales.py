"""Figures for the Overview and Performance & Trends pages, built from analytics selector results."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from analytics.warehouse import (
    CategoryDiscountImpact,
    MonthOfYearSales,
    MonthSales,
    PaymentMethodSales,
    PeriodSales,
    QuarterSales,
    StorePerformance,
)
from retail_platform.charts import PALETTE, figure
from retail_platform.formatting import axis_ticks, money, percent, thousands

GROSS_COLOR = PALETTE[8]
NET_COLOR = PALETTE[0]
DISCOUNT_COLOR = PALETTE[1]


def _money_axis(title: str, *values: Sequence[Decimal | int | float | None]) -> dict[str, Any]:
    """A money axis whose ticks read like the tables (retail_platform.formatting)."""
    return {
        "title": {"text": title},
        **axis_ticks([value for series in values for value in series], kind="money"),
        "rangemode": "tozero",
    }


def _floats(values: Sequence[Decimal | int | float | None]) -> list[float | None]:
    return [None if value is None else float(value) for value in values]


def store_performance_chart(stores: Sequence[StorePerformance]) -> go.Figure:
    """Net sales per store as horizontal bars, the best-selling store at the top; the hover adds the
    store's share of sales and its transactions."""
    ordered = list(reversed(stores))  # plotly draws the first category at the bottom
    return figure(
        [
            {
                "type": "bar",
                "orientation": "h",
                "y": [row.store for row in ordered],
                "x": _floats([row.net_sales for row in ordered]),
                "customdata": [
                    [money(row.net_sales), percent(row.share_of_sales), thousands(row.transactions)] for row in ordered
                ],
                "name": "Net sales",
                "marker": {"color": NET_COLOR},
                "hovertemplate": (
                    "%{y}<br>Net sales: %{customdata[0]}<br>Share: %{customdata[1]}"
                    "<br>Transactions: %{customdata[2]}<extra></extra>"
                ),
            }
        ],
        xaxis=_money_axis("Net sales", [row.net_sales for row in stores]),
        yaxis={"automargin": True},
        showlegend=False,
        height=max(240, 36 * len(stores) + 80),
    )


PARTIAL_PATTERN = "/"  # hatching of a period the data covers only in part
PARTIAL_OPACITY = 0.45
# Two short lines: the note must fit a phone's chart (about 300 px).
PARTIAL_NOTE = "Hatched or dashed: the data covers<br>only part of that period (see the hover)."


def _coverage_text(row: PeriodSales) -> str:
    if row.partial:
        return f"{row.days_covered} of {row.days_in_period} days covered (partial)"
    return f"all {row.days_in_period} days covered"


def _with_gaps(rows: Sequence[PeriodSales], months: int) -> list[PeriodSales | None]:
    """The rows with a None between two periods that are not next to each other (years the data does
    not cover): a line breaks there instead of joining distant periods."""
    out: list[PeriodSales | None] = []
    for row in rows:
        previous = out[-1] if out else None
        if previous is not None and _months_between(previous.start, row.start) > months:
            out.append(None)
        out.append(row)
    return out


def _months_between(earlier: datetime.date, later: datetime.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _partial_note(rows: Sequence[PeriodSales]) -> dict[str, Any]:
    """Layout of a chart with a partly covered period: the note under it, and room for it."""
    if not any(row.partial for row in rows):
        return {}
    return {"annotations": [_note(PARTIAL_NOTE)], "margin": {"b": 90}}


def _note(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": -0.22,
        "showarrow": False,
        "xanchor": "left",
        "font": {"size": 11},
    }


def _line_traces(name: str, rows: Sequence[PeriodSales], values: list[float | None], style: dict[str, Any]) -> list:
    """A line over complete periods (solid) and its segments to partial periods (dashed, hollow markers)."""
    gapped = _with_gaps(rows, months=1)
    value_of = dict(zip((row.start for row in rows), values, strict=True))
    complete_x: list[str | None] = []
    complete_y: list[float | None] = []
    partial_x: list[str | None] = []
    partial_y: list[float | None] = []
    for index, row in enumerate(gapped):
        if row is None:
            complete_x.append(None)
            complete_y.append(None)
            continue
        x, y = row.start.isoformat(), value_of[row.start]
        if not row.partial:
            complete_x.append(x)
            complete_y.append(y)
            continue
        neighbours = [gapped[index + step] for step in (-1, 1) if 0 <= index + step < len(gapped)]
        for neighbour in neighbours:
            if neighbour is not None and not neighbour.partial:
                partial_x += [neighbour.start.isoformat(), x, None]
                partial_y += [value_of[neighbour.start], y, None]
        if not any(n is not None and not n.partial for n in neighbours):
            partial_x += [x, None]
            partial_y += [y, None]
    traces = [
        {
            "type": "scatter",
            "x": complete_x,
            "y": complete_y,
            "name": name,
            "mode": "lines+markers",
            **style,
            "legendgroup": name,
            "connectgaps": False,
        }
    ]
    if partial_x:
        traces.append(
            {
                "type": "scatter",
                "x": partial_x,
                "y": partial_y,
                "name": f"{name} (partial period)",
                "mode": "lines+markers",
                "line": {**style.get("line", {}), "dash": "dash", "width": 2},
                "marker": {"symbol": "circle-open", "size": 9},
                "legendgroup": name,
                "showlegend": False,
                "connectgaps": False,
            }
        )
    return traces


COMPARISON_COLOR = PALETTE[8]


def _comparison_trace(
    months: Sequence[PeriodSales], comparison: Sequence[PeriodSales | None], label: str
) -> dict[str, Any]:
    """The comparison period's net sales on the current months' axis, as a thin dashed line; the
    hover names the month it comes from."""
    values = [row.net_sales if row is not None else None for row in comparison]
    return {
        "type": "scatter",
        "x": [row.start.isoformat() for row in months],
        "y": _floats(values),
        "customdata": [
            [row.label if row is not None else "no data", money(row.net_sales) if row else "—"] for row in comparison
        ],
        "name": label,
        "mode": "lines",
        "line": {"color": COMPARISON_COLOR, "dash": "dash", "width": 2},
        "connectgaps": False,
        "hovertemplate": f"{label} (%{{customdata[0]}}): %{{customdata[1]}}<extra></extra>",
    }


def sales_over_time_chart(
    months: Sequence[MonthSales], *, comparison: Sequence[PeriodSales | None] | None = None, comparison_label: str = ""
) -> go.Figure:
    """Gross and net sales per month as two lines on a date axis (the gap between them is the
    discount); a partly covered month is joined by a dashed segment and a hollow marker, and years
    the data does not cover break the lines. With a comparison, its net sales overlay the axis
    (last year's month on this year's)."""
    return figure(
        [
            *_line_traces(
                "Gross sales",
                months,
                _floats([row.gross_sales for row in months]),
                {"line": {"color": GROSS_COLOR, "dash": "dot"}},
            ),
            *_line_traces(
                "Net sales",
                months,
                _floats([row.net_sales for row in months]),
                {"line": {"color": NET_COLOR, "width": 3}},
            ),
            *([_comparison_trace(months, comparison, comparison_label)] if comparison is not None else []),
        ],
        xaxis={"type": "date", "tickformat": "%b %Y"},
        yaxis=_money_axis(
            "Sales per month",
            [row.gross_sales for row in months],
            [row.net_sales for row in months],
            [row.net_sales for row in comparison or () if row is not None],
        ),
        hovermode="x unified",
        **_partial_note(months),
    )


def _period_bars(
    name: str, rows: Sequence[PeriodSales], values: Sequence[Decimal | None], color: str, *, hover_extra: str = ""
) -> dict[str, Any]:
    """Bars on a date axis, one per period; a partly covered period hatched and lighter."""
    return {
        "type": "bar",
        "x": [row.start.isoformat() for row in rows],
        "y": _floats(values),
        "name": name,
        "marker": {
            "color": color,
            "opacity": [PARTIAL_OPACITY if row.partial else 1 for row in rows],
            "pattern": {"shape": [PARTIAL_PATTERN if row.partial else "" for row in rows]},
        },
        "customdata": [
            [row.label, _coverage_text(row), thousands(row.transactions), money(value)]
            for row, value in zip(rows, values, strict=True)
        ],
        "hovertemplate": (
            f"%{{customdata[0]}}<br>{name}: %{{customdata[3]}}{hover_extra}<br>%{{customdata[1]}}<extra></extra>"
        ),
    }


def monthly_sales_chart(
    months: Sequence[MonthSales], *, comparison: Sequence[PeriodSales | None] | None = None, comparison_label: str = ""
) -> go.Figure:
    """Net sales per month as bars on a date axis, the transactions of each month in the hover; a
    partly covered month is hatched and lighter. With a comparison, its net sales as a dashed line."""
    return figure(
        [
            *([_comparison_trace(months, comparison, comparison_label)] if comparison is not None else []),
            _period_bars(
                "Net sales",
                months,
                [row.net_sales for row in months],
                NET_COLOR,
                hover_extra="<br>Transactions: %{customdata[2]}",
            ),
        ],
        xaxis={"type": "date", "tickformat": "%b %Y"},
        yaxis=_money_axis(
            "Net sales",
            [row.net_sales for row in months],
            [row.net_sales for row in comparison or () if row is not None],
        ),
        showlegend=comparison is not None,
        **_partial_note(months),
    )


def _bar(name: str, x: list[str], values: Sequence[Decimal | int | float | None], color: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "x": x,
        "y": _floats(values),
        "customdata": [money(value) for value in values],
        "name": name,
        "marker": {"color": color},
        "hovertemplate": f"%{{x}}<br>{name}: %{{customdata}}<extra></extra>",
    }


def quarterly_sales_chart(quarters: Sequence[QuarterSales]) -> go.Figure:
    """Gross and net sales per quarter, side by side on a date axis; a partly covered quarter hatched."""
    return figure(
        [
            _period_bars("Gross sales", quarters, [row.gross_sales for row in quarters], GROSS_COLOR),
            _period_bars("Net sales", quarters, [row.net_sales for row in quarters], NET_COLOR),
        ],
        barmode="group",
        xaxis={"type": "date", "tickformat": "Q%q %Y", "dtick": "M3" if len(quarters) <= 12 else "M12"},
        yaxis=_money_axis(
            "Sales per quarter", [row.gross_sales for row in quarters], [row.net_sales for row in quarters]
        ),
        **_partial_note(quarters),
    )


def month_of_year_chart(months: Sequence[MonthOfYearSales]) -> go.Figure:
    """Average net sales for each calendar month over the years in which the data covers it
    completely (the seasonal pattern); partly covered months are left out of the averages."""
    return figure(
        [
            {
                "type": "bar",
                "x": [calendar.month_abbr[row.month] for row in months],
                "y": _floats([row.avg_net_sales for row in months]),
                "customdata": [
                    [
                        money(row.avg_net_sales),
                        thousands(row.years),
                        ", ".join(str(year) for year in row.partial_years_left_out) or "none",
                    ]
                    for row in months
                ],
                "name": "Average net sales",
                "marker": {"color": PALETTE[2]},
                "hovertemplate": (
                    "%{x}<br>Average net sales: %{customdata[0]}<br>Complete years averaged: %{customdata[1]}"
                    "<br>Partly covered, left out: %{customdata[2]}<extra></extra>"
                ),
            }
        ],
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": list(calendar.month_abbr)[1:]},
        yaxis=_money_axis("Average net sales", [row.avg_net_sales for row in months]),
        showlegend=False,
        annotations=[
            _note("Averages over complete months only:<br>a partly covered first or last month<br>is left out.")
        ],
        margin={"b": 105},
    )


def discount_impact_chart(categories: Sequence[CategoryDiscountImpact]) -> go.Figure:
    """Gross against net sales per category: the difference is what the discounts gave away."""
    names = [row.category for row in categories]
    gross = [row.gross_sales for row in categories]
    net = [row.net_sales for row in categories]
    discount = [row.discount for row in categories]
    return figure(
        [
            _bar("Gross sales", names, gross, GROSS_COLOR),
            _bar("Net sales", names, net, NET_COLOR),
            _bar("Discount", names, discount, DISCOUNT_COLOR),
        ],
        barmode="group",
        xaxis={"type": "category", "tickangle": -30},
        yaxis=_money_axis("Sales", gross, net, discount),
    )


def payment_methods_chart(methods: Sequence[PaymentMethodSales]) -> go.Figure:
    """Each payment method's share of net sales, as a ring."""
    return figure(
        [
            {
                "type": "pie",
                "labels": [row.payment_method for row in methods],
                "values": _floats([row.net_sales for row in methods]),
                "text": [percent(row.share_of_sales) for row in methods],
                "customdata": [[money(row.net_sales), thousands(row.transactions)] for row in methods],
                "hole": 0.5,
                "sort": False,
                "textinfo": "label+text",
                "hovertemplate": (
                    "%{label}<br>Net sales: %{customdata[0]} (%{text})<br>Transactions: %{customdata[1]}<extra></extra>"
                ),
                "marker": {"colors": list(PALETTE[: len(methods)])},
            }
        ],
        showlegend=False,
        margin={"l": 16, "r": 16, "t": 16, "b": 16},
    )
