"""Plotly figures handed to templates: the page puts the figure's JSON in a `json_script` tag and
static/js/charts.js draws every one of them with plotly.js (no inline scripts, no CDN)."""

from __future__ import annotations

import json
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


def styled(fig: go.Figure, **layout: Any) -> go.Figure:
    """Apply the house layout, then what the figure already has (subplot axes, lines added with
    add_vline), then the chart's own settings, which win. One layout assignment: plotly validates
    a whole layout in a few milliseconds but each update_layout call costs many times that."""
    fig.layout = _merged(_merged(BASE_LAYOUT, fig.layout.to_plotly_json()), layout)
    return fig


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
