import datetime
import json
from decimal import Decimal

import numpy as np
import plotly.graph_objects as go

from retail_platform.charts import PALETTE, Chart, figure_to_dict, styled


def test_figure_to_dict_gives_plain_json_for_numpy_dates_and_decimals() -> None:
    fig = go.Figure(go.Bar(x=[datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)], y=np.array([Decimal("1.50"), 2])))
    payload = figure_to_dict(fig)
    json.dumps(payload)  # serialisable with the standard encoder, as json_script needs
    assert payload["data"][0]["type"] == "bar"
    assert payload["data"][0]["x"] == ["2024-01-01", "2024-02-01"]
    assert payload["data"][0]["y"] == [1.5, 2]
    assert payload["config"]["responsive"] is True


def test_styled_applies_house_layout_and_lets_the_chart_override_it() -> None:
    fig = styled(go.Figure(), margin={"l": 10}, yaxis_title="Sales")
    assert fig.layout.colorway == PALETTE
    assert fig.layout.margin.l == 10
    assert fig.layout.yaxis.title.text == "Sales"


def test_chart_names_its_json_script_after_its_key() -> None:
    chart = Chart.from_figure(go.Figure(), key="stores", title="Store performance")
    assert chart.script_id == "figure-stores"
    assert chart.description == "Store performance"


def test_figures_carry_the_small_house_template_not_plotlys() -> None:
    payload = figure_to_dict(styled(go.Figure(go.Bar(x=[1], y=[2]))))
    template = payload["layout"]["template"]
    assert template["layout"]["plot_bgcolor"] == "white"
    assert "data" not in template  # plotly's own templates style every trace type, kilobytes per chart
    assert len(json.dumps(payload)) < 2_000


def test_styled_keeps_what_the_figure_already_has() -> None:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    fig.add_vline(x=0.5)
    styled(fig, margin={"t": 5})
    assert len(fig.layout.shapes) == 1
    assert fig.layout.margin.t == 5 and fig.layout.margin.l == 56
