"""The Simulator page: the campaign form, the results, two charts and the model written out.

The form submits by GET (a simulation is a pure computation, so its URL can be bookmarked) or by
POST (with the CSRF token); either way the page re-renders on the server. A blank field takes its
default, and the page says where every value used came from (the segment's history or a default).
Percentages are typed as people write them (10 for 10 %) and handed to the service as fractions.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views import View

from analytics.warehouse import answer_get, question_key
from campaigns import charts, simulation
from campaigns.selectors import active_segmentation_get
from campaigns.services import PARAMETERS, campaign_discount_curve, campaign_simulate
from campaigns.simulation import MAX_SIMULATIONS, SimulationResult
from retail_platform.charts import Chart
from retail_platform.errors import ApplicationError
from retail_platform.formatting import money, percent, thousands
from retail_platform.pages import AnalystRequiredMixin
from segmentation.rfm import SEGMENTS as RFM_SEGMENTS

PERCENT_FIELDS = ("discount", "response_rate", "baseline_rate", "margin")
HUNDRED = Decimal(100)


class SimulationForm(forms.Form):
    segments = forms.MultipleChoiceField(
        label="Segments to target",
        widget=forms.CheckboxSelectMultiple,
        help_text="K-Means segments and RFM segments of the active segmentation run; choose one or more.",
    )
    discount = forms.DecimalField(
        label="Discount (%)", required=False, min_value=0, max_value=Decimal("99.99"), decimal_places=2
    )
    response_rate = forms.DecimalField(
        label="Response rate with the offer (%)", required=False, min_value=0, max_value=100, decimal_places=2
    )
    baseline_rate = forms.DecimalField(
        label="Baseline rate without the offer (%)", required=False, min_value=0, max_value=100, decimal_places=2
    )
    margin = forms.DecimalField(label="Gross margin (%)", required=False, min_value=0, max_value=100, decimal_places=2)
    contact_cost = forms.DecimalField(
        label="Contact cost per customer", required=False, min_value=0, max_digits=12, decimal_places=2
    )
    fixed_cost = forms.DecimalField(
        label="Fixed campaign cost", required=False, min_value=0, max_digits=14, decimal_places=2
    )
    horizon_days = forms.IntegerField(label="Horizon (days)", required=False, min_value=1, max_value=3650)
    simulations = forms.IntegerField(label="Monte Carlo runs", required=False, min_value=1, max_value=MAX_SIMULATIONS)
    seed = forms.IntegerField(label="Random seed", required=False, min_value=0, max_value=2**63 - 1)

    def __init__(self, *args: Any, kmeans: tuple[str, ...], rfm: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        segments = self.fields["segments"]
        assert isinstance(segments, forms.ChoiceField)
        segments.choices = [
            ("K-Means segments", [(name, name) for name in kmeans]),
            ("RFM segments", [(name, name) for name in rfm]),
        ]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as campaign_simulate takes it: fractions, floats, blanks left out."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {"segments": list(data["segments"])}
        for name in PARAMETERS:
            value = data.get(name)
            if value is None:
                continue
            if name in PERCENT_FIELDS:
                arguments[name] = float(value / HUNDRED)
            elif isinstance(value, Decimal):
                arguments[name] = float(value)
            else:
                arguments[name] = value
        return arguments


def _shown_value(name: str, value: Any) -> str:
    if name in PERCENT_FIELDS:
        return percent(value, 2 if name != "discount" else 1)
    if name in ("contact_cost", "fixed_cost"):
        return money(value)
    return thousands(value)


def _assumption_rows(form: SimulationForm, result: SimulationResult | None) -> list[dict[str, Any]]:
    """Each input field with the value the simulation used and where that value came from."""
    rows = []
    for name in PARAMETERS:
        used = getattr(result.assumptions, name) if result else None
        attrs = form.fields[name].widget.attrs
        attrs["aria-describedby"] = f"help-{name}"
        if result:
            attrs["placeholder"] = _placeholder(name, used)
        field = form[name]
        rows.append(
            {
                "field": field,
                "used": _shown_value(name, used) if result else "",
                "source": result.assumption_sources.get(name, "") if result else "",
            }
        )
    return rows


def _placeholder(name: str, value: Any) -> str:
    if name in PERCENT_FIELDS:
        return f"{float(value) * 100:.2f}".rstrip("0").rstrip(".")
    if name in ("contact_cost", "fixed_cost"):
        return f"{float(value):.2f}"
    return str(value)


def model_text(result: SimulationResult) -> str:
    """The closed-form model with this simulation's numbers written in."""
    a = result.assumptions
    n, aov = result.customers_targeted, result.avg_order_value
    lines = [
        f"N = {n:,} customers targeted, A = {money(aov)} average order value",
        f"d = {a.discount:.1%} discount, r = {a.response_rate:.2%} response with the offer, "
        f"b = {a.baseline_rate:.2%} would buy anyway in {a.horizon_days} days",
        f"m = {a.margin:.1%} gross margin, c = {money(a.contact_cost)} per contact, F = {money(a.fixed_cost)} fixed",
        "",
        f"Expected orders        = N·r = {result.expected_orders:,.1f}",
        f"Incremental revenue    = N·r·A·(1-d) - N·b·A = {money(result.incremental_revenue)}",
        f"Discount cost          = N·r·A·d = {money(result.discount_cost)}",
        f"Campaign cost          = N·c + F + N·r·A·d = {money(result.total_cost)}",
        f"Incremental profit     = N·r·A·(m-d) - N·b·A·m - N·c - F = {money(result.incremental_profit)}",
        "ROI                    = incremental profit ÷ campaign cost = "
        + (f"{result.roi:.1%}" if result.roi is not None else "undefined (no cost)"),
        "Break-even response r* = (N·b·A·m + N·c + F) ÷ (N·A·(m-d)) = "
        + (f"{result.break_even_response_rate:.2%}" if result.break_even_response_rate is not None else "none")
        + f" ({result.break_even_note})",
        "",
        f"Monte Carlo: {a.simulations:,} runs ({result.monte_carlo_method}, seed {a.seed}): each customer buys with "
        "the offer with probability r and would have bought anyway with probability b; order values are drawn "
        "from the segment's real purchases.",
    ]
    if result.monte_carlo_method != "bootstrap":
        lines.append(
            f"Over {simulation.EXACT_DRAWS_LIMIT:,} draws in all, a run's sum over {simulation.NORMAL_MIN_DRAWS:,} "
            "orders or more is drawn from its normal approximation (the same mean and variance as the bootstrap sum)."
        )
    return "\n".join(lines)


def simulation_page(*, active_run_id: int, arguments: dict[str, Any]) -> dict[str, Any]:
    """The simulation, its discount curve and both figures. Seeded, so the same inputs on the same
    run and data give the same answer: cached under them (a new import or run changes the key)."""
    question = question_key(active_run_id, json.dumps(arguments, sort_keys=True))
    return answer_get("page:simulator", question, lambda _version: _simulation_page_build(arguments))


def _simulation_page_build(arguments: dict[str, Any]) -> dict[str, Any]:
    result = campaign_simulate(**arguments)
    curve = campaign_discount_curve(result=result)
    return {
        "result": result,
        "curve": curve,
        "model_text": model_text(result),
        "charts": {
            "histogram": Chart.from_figure(
                charts.simulated_profit_histogram(result),
                key="profit-histogram",
                title=f"Incremental profit over {result.assumptions.simulations:,} simulated campaigns",
                description="Histogram of the simulated incremental profit, with the 5th, 50th and 95th "
                "percentiles and zero marked.",
            ),
            "curve": Chart.from_figure(
                charts.profit_by_discount_chart(curve, chosen_discount=result.assumptions.discount),
                key="profit-by-discount",
                title="Expected incremental profit by discount, 0 to 50 %",
                description=f"Line chart of expected incremental profit against the discount; the best "
                f"discount, {curve.best_discount:.0%}, is marked.",
            ),
        },
    }


class SimulatorView(AnalystRequiredMixin, View):
    template_name = "campaigns/simulator.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, request.GET)

    def post(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, request.POST)

    def _render(self, request: HttpRequest, params: QueryDict) -> HttpResponse:
        active = active_segmentation_get()
        if active is None:
            return render(request, self.template_name, {"active": None})
        kmeans = tuple(name for name in active.segment_names if name not in RFM_SEGMENTS)
        rfm = tuple(name for name in active.segment_names if name in RFM_SEGMENTS)
        submitted = any(key in params for key in ("segments", *PARAMETERS))
        if submitted:
            form = SimulationForm(params, kmeans=kmeans, rfm=rfm)
        else:
            # First visit: simulate the first segment on its defaults, so every default is shown.
            first = (kmeans or rfm)[:1]
            form = SimulationForm({"segments": list(first)}, kmeans=kmeans, rfm=rfm)
        page: dict[str, Any] = {}
        if form.is_valid():
            try:
                page = simulation_page(active_run_id=active.run_id, arguments=form.service_arguments())
            except ApplicationError as error:
                field = error.extra.get("field")
                form.add_error(field if field in form.fields else None, error.message)
        result = page.get("result")
        context: dict[str, Any] = {
            "active": active,
            "form": form,
            "submitted": submitted,
            "assumption_rows": _assumption_rows(form, result),
            "result": result,
            **page,
        }
        status = 400 if submitted and form.errors else 200
        return render(request, self.template_name, context, status=status)
