"""Figures for the Overview and Performance & Trends pages, built from analytics selector results."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from analytics.selectors.discounts import CategoryDiscountImpact
from analytics.selectors.sales import PaymentMethodSales, StorePerformance
from analytics.selectors.seasonality import MonthOfYearSales, MonthSales, QuarterSales
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


def _month_label(month: str) -> str:
    """ "2023-01" -> "Jan 2023"."""
    year, number = month.split("-")
    return f"{calendar.month_abbr[int(number)]} {year}"


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


def sales_over_time_chart(months: Sequence[MonthSales]) -> go.Figure:
    """Gross and net sales per month as two lines (the gap between them is the discount)."""
    x = [f"{row.month}-01" for row in months]
    return figure(
        [
            _line("Gross sales", x, [row.gross_sales for row in months], {"color": GROSS_COLOR, "dash": "dot"}),
            _line("Net sales", x, [row.net_sales for row in months], {"color": NET_COLOR, "width": 3}),
        ],
        xaxis={"type": "date", "tickformat": "%b %Y", "dtick": "M1" if len(months) <= 12 else "M3"},
        yaxis=_money_axis("Sales per month", [row.gross_sales for row in months], [row.net_sales for row in months]),
        hovermode="x unified",
    )


def _line(name: str, x: list[str], values: Sequence[Decimal | None], line: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "scatter",
        "x": x,
        "y": _floats(values),
        "customdata": [money(value) for value in values],
        "name": name,
        "mode": "lines+markers",
        "line": line,
        "hovertemplate": f"{name}: %{{customdata}}<extra></extra>",
    }


def monthly_sales_chart(months: Sequence[MonthSales]) -> go.Figure:
    """Net sales per month as bars, with the transactions of each month in the hover."""
    return figure(
        [
            {
                "type": "bar",
                "x": [_month_label(row.month) for row in months],
                "y": _floats([row.net_sales for row in months]),
                "customdata": [[money(row.net_sales), thousands(row.transactions)] for row in months],
                "name": "Net sales",
                "marker": {"color": NET_COLOR},
                "hovertemplate": "%{x}<br>Net sales: %{customdata[0]}<br>Transactions: %{customdata[1]}<extra></extra>",
            }
        ],
        xaxis={"type": "category"},
        yaxis=_money_axis("Net sales", [row.net_sales for row in months]),
        showlegend=False,
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
    """Gross and net sales per quarter, side by side."""
    labels = [row.quarter.replace("-", " ") for row in quarters]
    gross = [row.gross_sales for row in quarters]
    net = [row.net_sales for row in quarters]
    return figure(
        [_bar("Gross sales", labels, gross, GROSS_COLOR), _bar("Net sales", labels, net, NET_COLOR)],
        barmode="group",
        xaxis={"type": "category"},
        yaxis=_money_axis("Sales per quarter", gross, net),
    )


def month_of_year_chart(months: Sequence[MonthOfYearSales]) -> go.Figure:
    """Average net sales for each calendar month over the years that have it (the seasonal pattern)."""
    return figure(
        [
            {
                "type": "bar",
                "x": [calendar.month_abbr[row.month] for row in months],
                "y": _floats([row.avg_net_sales for row in months]),
                "customdata": [[money(row.avg_net_sales), thousands(row.years)] for row in months],
                "name": "Average net sales",
                "marker": {"color": PALETTE[2]},
                "hovertemplate": (
                    "%{x}<br>Average net sales: %{customdata[0]}<br>Years averaged: %{customdata[1]}<extra></extra>"
                ),
            }
        ],
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": list(calendar.month_abbr)[1:]},
        yaxis=_money_axis("Average net sales", [row.avg_net_sales for row in months]),
        showlegend=False,
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
