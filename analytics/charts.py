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
from retail_platform.formatting import currency_symbol

GROSS_COLOR = PALETTE[8]
NET_COLOR = PALETTE[0]
DISCOUNT_COLOR = PALETTE[1]


def _money_axis(title: str) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "tickprefix": _symbol(),
        "separatethousands": True,
        "rangemode": "tozero",
    }


def _floats(values: Sequence[Decimal | int | float | None]) -> list[float | None]:
    return [None if value is None else float(value) for value in values]


def _symbol() -> str:
    return currency_symbol()


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
                "customdata": [[row.share_of_sales or 0.0, row.transactions] for row in ordered],
                "name": "Net sales",
                "marker": {"color": NET_COLOR},
                "hovertemplate": (
                    f"%{{y}}<br>Net sales: {_symbol()}%{{x:,.2f}}"
                    "<br>Share: %{customdata[0]:.1%}<br>Transactions: %{customdata[1]:,}<extra></extra>"
                ),
            }
        ],
        xaxis=_money_axis("Net sales"),
        yaxis={"automargin": True},
        showlegend=False,
        height=max(240, 36 * len(stores) + 80),
    )


def sales_over_time_chart(months: Sequence[MonthSales]) -> go.Figure:
    """Gross and net sales per month as two lines (the gap between them is the discount)."""
    x = [f"{row.month}-01" for row in months]
    return figure(
        [
            {
                "type": "scatter",
                "x": x,
                "y": _floats([row.gross_sales for row in months]),
                "name": "Gross sales",
                "mode": "lines+markers",
                "line": {"color": GROSS_COLOR, "dash": "dot"},
            },
            {
                "type": "scatter",
                "x": x,
                "y": _floats([row.net_sales for row in months]),
                "name": "Net sales",
                "mode": "lines+markers",
                "line": {"color": NET_COLOR, "width": 3},
            },
        ],
        xaxis={"type": "date", "tickformat": "%b %Y", "dtick": "M1" if len(months) <= 12 else "M3"},
        yaxis=_money_axis("Sales per month"),
        hovermode="x unified",
    )


def monthly_sales_chart(months: Sequence[MonthSales]) -> go.Figure:
    """Net sales per month as bars, with the transactions of each month in the hover."""
    return figure(
        [
            {
                "type": "bar",
                "x": [_month_label(row.month) for row in months],
                "y": _floats([row.net_sales for row in months]),
                "customdata": [row.transactions for row in months],
                "name": "Net sales",
                "marker": {"color": NET_COLOR},
                "hovertemplate": (
                    f"%{{x}}<br>Net sales: {_symbol()}%{{y:,.2f}}<br>Transactions: %{{customdata:,}}<extra></extra>"
                ),
            }
        ],
        xaxis={"type": "category"},
        yaxis=_money_axis("Net sales"),
        showlegend=False,
    )


def _bar(name: str, x: list[str], values: Sequence[Decimal | int | float | None], color: str) -> dict[str, Any]:
    return {"type": "bar", "x": x, "y": _floats(values), "name": name, "marker": {"color": color}}


def quarterly_sales_chart(quarters: Sequence[QuarterSales]) -> go.Figure:
    """Gross and net sales per quarter, side by side."""
    labels = [row.quarter.replace("-", " ") for row in quarters]
    return figure(
        [
            _bar("Gross sales", labels, [row.gross_sales for row in quarters], GROSS_COLOR),
            _bar("Net sales", labels, [row.net_sales for row in quarters], NET_COLOR),
        ],
        barmode="group",
        xaxis={"type": "category"},
        yaxis=_money_axis("Sales per quarter"),
    )


def month_of_year_chart(months: Sequence[MonthOfYearSales]) -> go.Figure:
    """Average net sales for each calendar month over the years that have it (the seasonal pattern)."""
    return figure(
        [
            {
                "type": "bar",
                "x": [calendar.month_abbr[row.month] for row in months],
                "y": _floats([row.avg_net_sales for row in months]),
                "customdata": [row.years for row in months],
                "name": "Average net sales",
                "marker": {"color": PALETTE[2]},
                "hovertemplate": (
                    f"%{{x}}<br>Average net sales: {_symbol()}%{{y:,.2f}}<br>Years averaged: %{{customdata}}"
                    "<extra></extra>"
                ),
            }
        ],
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": list(calendar.month_abbr)[1:]},
        yaxis=_money_axis("Average net sales"),
        showlegend=False,
    )


def discount_impact_chart(categories: Sequence[CategoryDiscountImpact]) -> go.Figure:
    """Gross against net sales per category: the difference is what the discounts gave away."""
    names = [row.category for row in categories]
    return figure(
        [
            _bar("Gross sales", names, [row.gross_sales for row in categories], GROSS_COLOR),
            _bar("Net sales", names, [row.net_sales for row in categories], NET_COLOR),
            _bar("Discount", names, [row.discount for row in categories], DISCOUNT_COLOR),
        ],
        barmode="group",
        xaxis={"type": "category", "tickangle": -30},
        yaxis=_money_axis("Sales"),
    )


def payment_methods_chart(methods: Sequence[PaymentMethodSales]) -> go.Figure:
    """Each payment method's share of net sales, as a ring."""
    return figure(
        [
            {
                "type": "pie",
                "labels": [row.payment_method for row in methods],
                "values": _floats([row.net_sales for row in methods]),
                "customdata": [row.transactions for row in methods],
                "hole": 0.5,
                "sort": False,
                "textinfo": "label+percent",
                "hovertemplate": (
                    f"%{{label}}<br>Net sales: {_symbol()}%{{value:,.2f}}<br>Transactions: %{{customdata:,}}"
                    "<extra></extra>"
                ),
                "marker": {"colors": list(PALETTE[: len(methods)])},
            }
        ],
        showlegend=False,
        margin={"l": 16, "r": 16, "t": 16, "b": 16},
    )
