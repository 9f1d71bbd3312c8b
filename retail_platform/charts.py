"""Plotly figures handed to templates: the page puts the figure's JSON in a `json_script` tag and
static/js/charts.js draws every one of them with plotly.js (no inline scripts, no CDN)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

# One look for every chart: the same font, margins and colours across pages.
PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563")
GRID_COLOR = "#e5e7eb"
AXIS_STYLE: dict[str, Any] = {
    "gridcolor": GRID_COLOR,
    "linecolor": GRID_COLOR,
    "zerolinecolor": GRID_COLOR,
    "ticks": "",
    "automargin": True,
}
# A small template of our own: plotly's built-in ones carry defaults for every trace type, and
# copying one into each figure costs more than building the chart itself.
HOUSE_TEMPLATE = go.layout.Template(
    layout={
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": AXIS_STYLE,
        "yaxis": AXIS_STYLE,
        "coloraxis": {"colorbar": {"outlinewidth": 0}},
    }
)
# Every figure the project builds starts from it (plotly copies the default template into each
# figure's layout when it is first read).
pio.templates["retail"] = HOUSE_TEMPLATE
pio.templates.default = "retail"

BASE_LAYOUT: dict[str, Any] = {
    "colorway": list(PALETTE),
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
    "margin": {"l": 56, "r": 16, "t": 16, "b": 48},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    "hoverlabel": {"namelength": -1},
    "autosize": True,
}
PLOT_CONFIG: dict[str, Any] = {"responsive": True, "displaylogo": False, "displayModeBar": False}


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        merged[key] = _merged(current, value) if isinstance(value, dict) and isinstance(current, dict) else value
    return merged


# The tests switch this on (conftest.py): every figure is then also built through plotly's
# validation, which must accept it and give the same JSON.
VALIDATE_FIGURES = False


def figure(data: Sequence[dict[str, Any]], **layout: Any) -> go.Figure:
    """A Figure from plain trace dicts (each with its "type") and the chart's layout, laid over the
    house layout (the chart's settings win, nested dicts merge).

    Built without plotly's per-property validation, which costs 2-30 ms per chart (the Customers
    page draws seven): the tests build every figure with VALIDATE_FIGURES on, so an unknown property
    or a bad value still fails them."""
    spec = {"data": [dict(trace) for trace in data], "layout": _merged(BASE_LAYOUT, layout)}
    fig = go.Figure(spec, _validate=False)
    if VALIDATE_FIGURES:
        _check_valid(fig, spec)
    return fig


def _check_valid(fig: go.Figure, spec: dict[str, Any]) -> None:
    validated = go.Figure(copy.deepcopy(spec))  # raises ValueError on an unknown property or a bad value
    if figure_to_dict(validated) != figure_to_dict(fig):
        raise ValueError(f"plotly's validation changes this figure: {spec!r}")


def figure_to_dict(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON types (numpy arrays, dates and Decimals converted) for `json_script`."""
    payload: dict[str, Any] = json.loads(pio.to_json(fig, validate=False, engine="json"))
    payload["config"] = dict(PLOT_CONFIG)
    return payload


@dataclass(frozen=True)
class Chart:
    """One chart on a page: `key` names its container and JSON script, `title` heads it and
    `description` is the text alternative read out instead of the drawing."""

    key: str
    title: str
    description: str
    figure: dict[str, Any]

    @property
    def script_id(self) -> str:
        return f"figure-{self.key}"

    @classmethod
    def from_figure(cls, fig: go.Figure, *, key: str, title: str, description: str = "") -> Chart:
        return cls(key=key, title=title, description=description or title, figure=figure_to_dict(fig))
