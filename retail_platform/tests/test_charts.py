import datetime
import json
from decimal import Decimal

import numpy as np
import plotly.graph_objects as go
import pytest

from retail_platform import charts
from retail_platform.charts import PALETTE, Chart, figure, figure_to_dict


def test_figure_to_dict_gives_plain_json_for_numpy_dates_and_decimals() -> None:
    fig = go.Figure(go.Bar(x=[datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)], y=np.array([Decimal("1.50"), 2])))
    payload = figure_to_dict(fig)
    json.dumps(payload)  # serialisable with the standard encoder, as json_script needs
    assert payload["data"][0]["type"] == "bar"
    assert payload["data"][0]["x"] == ["2024-01-01", "2024-02-01"]
    assert payload["data"][0]["y"] == [1.5, 2]
    assert payload["config"]["responsive"] is True


def test_figure_lays_the_chart_layout_over_the_house_layout() -> None:
    fig = figure([{"type": "bar", "x": [1], "y": [2]}], margin={"l": 10}, yaxis={"title": {"text": "Sales"}})
    assert isinstance(fig, go.Figure)
    assert fig.data[0].type == "bar" and list(fig.data[0].y) == [2]
    assert list(fig.layout.colorway) == list(PALETTE)
    # Nested settings merge: the chart's left margin, the house's other margins.
    assert fig.layout.margin.l == 10 and fig.layout.margin.t == 16
    assert fig.layout.yaxis.title.text == "Sales"


def test_figure_gives_the_json_plotly_would_give_after_validation() -> None:
    spec = {"type": "scatter", "x": np.array([0.0, 1.0]), "y": [3, 4], "marker": {"color": "#2563eb"}}
    fast = figure([spec], shapes=[{"type": "line", "x0": 0, "x1": 0, "y0": 0, "y1": 1, "yref": "y domain"}])
    validated = go.Figure(fast.to_dict())
    assert figure_to_dict(fast) == figure_to_dict(validated)


def test_figure_refuses_an_unknown_property_while_tests_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "VALIDATE_FIGURES", True)
    with pytest.raises(ValueError, match="colour"):
        figure([{"type": "bar", "x": [1], "y": [2], "marker": {"colour": "red"}}])
    with pytest.raises(ValueError):
        figure([{"type": "bar", "x": [1], "y": [2]}], barmode="sideways")


def test_figure_skips_validation_when_pages_render(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "VALIDATE_FIGURES", False)
    fig = figure([{"type": "bar", "x": [1], "y": [2], "marker": {"colour": "red"}}])
    assert figure_to_dict(fig)["data"][0]["marker"] == {"colour": "red"}


def test_chart_names_its_json_script_after_its_key() -> None:
    chart = Chart.from_figure(go.Figure(), key="stores", title="Store performance")
    assert chart.script_id == "figure-stores"
    assert chart.description == "Store performance"


def test_figures_carry_the_small_house_template_not_plotlys() -> None:
    payload = figure_to_dict(figure([{"type": "bar", "x": [1], "y": [2]}]))
    template = payload["layout"]["template"]
    assert template["layout"]["plot_bgcolor"] == "white"
    assert "data" not in template  # plotly's own templates style every trace type, kilobytes per chart
    assert len(json.dumps(payload)) < 2_000


@pytest.mark.parametrize("position", [index / 100 for index in range(101)])
def test_text_on_every_colour_of_the_heatmap_scale_meets_wcag_aa(position: float) -> None:
    from segmentation.charts import HEATMAP_SCALE

    cell = charts.scale_color(HEATMAP_SCALE, position)
    assert charts.contrast_ratio(charts.text_color_on(cell), cell) >= 4.5


def test_scale_color_interpolates_between_the_stops() -> None:
    scale = [[0.0, "#000000"], [0.5, "#ff0000"], [1.0, "#ffffff"]]
    assert charts.scale_color(scale, 0) == "#000000"
    assert charts.scale_color(scale, 0.25) == "#800000"
    assert charts.scale_color(scale, 0.75) == "#ff8080"
    assert charts.scale_color(scale, 2) == "#ffffff"


def test_heatmap_labels_are_dark_on_pale_cells_and_white_on_dark_ones() -> None:
    scale = [[0.0, "#eff6ff"], [1.0, "#1e3a8a"]]
    labels = charts.heatmap_labels(x=["a", "b"], y=["r"], z=[[0, 100]], text=[["0", "100"]], scale=scale)
    assert [(label["x"], label["text"], label["font"]["color"]) for label in labels] == [
        ("a", "0", "#000000"),
        ("b", "100", "#ffffff"),
    ]
    assert charts.heatmap_labels(x=["a"], y=["r"], z=[[5]], text=[[""]], scale=scale) == []
