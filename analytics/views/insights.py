"""Pages: Cohorts (do the customers won each period keep buying?) and Revenue change (why net sales
moved from one period to another). They read the read model (analytics.warehouse) and build figures
with analytics.charts; no business rule lives here."""

from __future__ import annotations

import datetime
from typing import Any

from django.views.generic import TemplateView

from analytics import charts
from analytics.cohorts import COHORT_METRICS, COHORT_PERIODS, Cohort
from analytics.periods import DateRange
from analytics.views.sales import Option, filter_state_from_request
from analytics.warehouse import SalesFilter, answer_get, cohorts_get, question_key, revenue_change_get
from retail_platform.charts import Chart
from retail_platform.errors import ApplicationError
from retail_platform.pages import ViewerRequiredMixin

PERIOD_LABELS = {"month": "Month", "week": "Week", "quarter": "Quarter"}
METRIC_LABELS = {
    "retention": "Bought in the period",
    "unbounded": "Bought in the period or later",
    "revenue": "Net sales per customer",
    "cumulative_revenue": "Net sales per customer so far",
}
CURVES = 5  # cohorts drawn as curves: the largest of the latest twelve


def _choice(value: str | None, valid: tuple[str, ...], default: str) -> str:
    return value if value in valid else default


def _curve_cohorts(cohorts: tuple[Cohort, ...]) -> list[Cohort]:
    recent = [cohort for cohort in cohorts if cohort.customers][-12:]
    return sorted(sorted(recent, key=lambda cohort: -cohort.customers)[:CURVES], key=lambda cohort: cohort.start)


def cohorts_page(sales_filter: SalesFilter, period: str, metric: str) -> dict[str, Any]:
    table = cohorts_get(period=period, sales_filter=sales_filter)  # type: ignore[arg-type]
    if table is None or not any(cohort.customers for cohort in table.cohorts):
        return {"charts": {}}
    rows = [cohort for cohort in table.cohorts if cohort.customers]
    curves = _curve_cohorts(table.cohorts)
    return {
        "table": table,
        "rows": [(cohort, cohort.values(metric)) for cohort in rows],  # type: ignore[arg-type]
        "columns": list(range(table.periods)),
        "charts": {
            "heatmap": Chart.from_figure(
                charts.cohort_heatmap_chart(table, metric=metric, cohorts=rows),
                key="cohort-heatmap",
                title=f"{METRIC_LABELS[metric]}, by cohort",
                description="Heat map: one row per cohort (its first-purchase period and size), one column per "
                "period after it, the value written in each cell; the table below lists every cohort.",
            ),
            "curves": Chart.from_figure(
                charts.cohort_curves_chart(table, metric=metric, cohorts=curves),
                key="cohort-curves",
                title=f"{METRIC_LABELS[metric]}: the largest recent cohorts",
                description="Line chart of the largest of the twelve latest cohorts, period after period.",
            ),
        },
    }


class CohortsView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/cohorts.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        period = _choice(self.request.GET.get("period"), COHORT_PERIODS, "month")
        metric = _choice(self.request.GET.get("metric"), COHORT_METRICS, "retention")
        context.update(state.context())
        context.update(
            compare_options=[],
            period=period,
            metric=metric,
            metric_label=METRIC_LABELS[metric],
            period_options=[Option(value, label, value == period) for value, label in PERIOD_LABELS.items()],
            metric_options=[Option(value, label, value == metric) for value, label in METRIC_LABELS.items()],
            shares=metric in ("retention", "unbounded"),
        )
        if state.has_data:
            question = question_key(state.sales_filter.cache_key, period, metric)
            context.update(
                answer_get("page:cohorts", question, lambda _version: cohorts_page(state.sales_filter, period, metric))
            )
        return context


def _range(params: Any, prefix: str, default: DateRange) -> DateRange:
    days = []
    for end, fallback in (("from", default.start), ("to", default.end)):
        raw = (params.get(f"{prefix}_{end}") or "").strip()
        try:
            days.append(datetime.date.fromisoformat(raw) if raw else fallback)
        except ValueError:
            raise ApplicationError(f"{prefix}_{end} must be a date written YYYY-MM-DD, not {raw!r}.") from None
    if days[0] > days[1]:
        raise ApplicationError(f"{prefix}_from is after {prefix}_to.")
    return DateRange(days[0], days[1])


def _default_ranges(last: datetime.date) -> tuple[DateRange, DateRange]:
    """The last complete quarter of the data against the one before it."""
    quarter_start = datetime.date(last.year, (last.month - 1) // 3 * 3 + 1, 1)
    b_end = quarter_start - datetime.timedelta(days=1)
    b_start = datetime.date(b_end.year, (b_end.month - 1) // 3 * 3 + 1, 1)
    a_end = b_start - datetime.timedelta(days=1)
    a_start = datetime.date(a_end.year, (a_end.month - 1) // 3 * 3 + 1, 1)
    return DateRange(a_start, a_end), DateRange(b_start, b_end)


def revenue_change_page(sales_filter: SalesFilter, a: DateRange, b: DateRange) -> dict[str, Any]:
    change = revenue_change_get(a=a, b=b, sales_filter=sales_filter)
    return {
        "change": change,
        "charts": {
            "waterfall": Chart.from_figure(
                charts.revenue_waterfall_chart(change.factors),
                key="revenue-waterfall",
                title="From period A's net sales to period B's",
                description="Waterfall chart: A's net sales, each driver's contribution (rises green, falls red), "
                "B's net sales; the table below lists the same figures.",
            ),
            "stores": Chart.from_figure(
                charts.store_contributions_chart(change.stores),
                key="revenue-stores",
                title="Each store's change in net sales",
                description="Bar chart of each store's change in net sales from A to B, sorted; stores that opened "
                "or closed are marked. The table below lists the same figures.",
            ),
        },
    }


class RevenueChangeView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/revenue_change.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        context.update(state.context())
        context.update(compare_options=[])
        if not state.has_data or state.everything.last_date is None:
            return context
        default_a, default_b = _default_ranges(state.everything.last_date)
        try:
            a = _range(self.request.GET, "a", default_a)
            b = _range(self.request.GET, "b", default_b)
        except ApplicationError as error:
            context["filter_errors"] = (*state.errors, f"{error.message} Showing the default periods instead.")
            a, b = default_a, default_b
        scope = SalesFilter(stores=state.sales_filter.stores, categories=state.sales_filter.categories)
        context.update(a=a, b=b)
        question = question_key(a, b, scope.cache_key)
        context.update(answer_get("page:revenue_change", question, lambda _version: revenue_change_page(scope, a, b)))
        return context
