"""Plotly figures handed to templates: the page puts the figure's JSON in a `json_script` tag and
static/js/charts.js draws every one of them with plotly.js (no inline scripts, no CDN)."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from django.utils.html import json_script

# One look for every chart: the same font, margins and colours across pages.
# The one sequential scale of the heat maps (counts, shares): pale for few, dark for many.
HEATMAP_SCALE = [[0.0, "#eff6ff"], [0.5, "#60a5fa"], [1.0, "#1e3a8a"]]
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
    `description` is the text alternative read out instead of the drawing. `script` is the figure's
    JSON script element, made once with the chart (a cached page renders it as it is: encoding and
    escaping eleven figures took a Customers page 20 ms a request)."""

    key: str
    title: str
    description: str
    figure: dict[str, Any]
    script: str

    @property
    def script_id(self) -> str:
        return f"figure-{self.key}"

    @classmethod
    def from_figure(cls, fig: go.Figure, *, key: str, title: str, description: str = "") -> Chart:
        figure = figure_to_dict(fig)
        return cls(
            key=key,
            title=title,
            description=description or title,
            figure=figure,
            script=json_script(figure, f"figure-{key}"),
        )


# --- Colours: text drawn on a coloured cell takes black or white, whichever contrasts more with the
# cell (WCAG 2 relative luminance). Against pure black and pure white every colour reaches at least
# 4.58:1, above the 4.5:1 that WCAG AA asks of text.

TEXT_ON_LIGHT = "#000000"
TEXT_ON_DARK = "#ffffff"


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def relative_luminance(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in _rgb(color))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_color_on(background: str) -> str:
    """Black or white, whichever reads better on `background` (#rrggbb)."""
    if contrast_ratio(TEXT_ON_LIGHT, background) >= contrast_ratio(TEXT_ON_DARK, background):
        return TEXT_ON_LIGHT
    return TEXT_ON_DARK


def scale_color(scale: Sequence[tuple[float, str]] | Sequence[list[Any]], position: float) -> str:
    """The colour a plotly colorscale ([[0, "#..."], ..., [1, "#..."]]) gives at 0 <= position <= 1,
    interpolated in RGB as plotly.js does."""
    position = min(1.0, max(0.0, position))
    stops = [(float(stop), str(color)) for stop, color in scale]
    for (low, low_color), (high, high_color) in itertools.pairwise(stops):
        if position <= high:
            share = 0.0 if high == low else (position - low) / (high - low)
            mixed = [round(a + (b - a) * share) for a, b in zip(_rgb(low_color), _rgb(high_color), strict=True)]
            return "#{:02x}{:02x}{:02x}".format(*mixed)
    return stops[-1][1]


def heatmap_labels(
    *, x: Sequence[str], y: Sequence[str], z: Sequence[Sequence[float]], text: Sequence[Sequence[str]], scale: Any
) -> list[dict[str, Any]]:
    """Each cell's text as an annotation in the colour that reads on that cell (plotly's heatmap text
    has one colour for every cell). The heatmap must set zmin/zmax to the values' range, as here."""
    values = [value for row in z for value in row]
    low, high = (min(values), max(values)) if values else (0, 0)
    labels = []
    for row_name, row_values, row_text in zip(y, z, text, strict=True):
        for column_name, value, label in zip(x, row_values, row_text, strict=True):
            if not label:
                continue
            position = 0.0 if high == low else (value - low) / (high - low)
            labels.append(
                {
                    "x": column_name,
                    "y": row_name,
                    "xref": "x",
                    "yref": "y",
                    "text": label,
                    "showarrow": False,
                    "font": {"color": text_color_on(scale_color(scale, position))},
                }
            )
    return labels
