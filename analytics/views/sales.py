"""Pages: Overview and Performance & Trends. Each view parses the filters (and the comparison asked
for), reads the read model (analytics.warehouse), builds figures with analytics.charts and renders;
no business rule lives here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.views.generic import TemplateView

from analytics import charts
from analytics.comparisons import CompareKind
from analytics.warehouse import (
    REPEAT,
    Compared,
    Overview,
    PeriodSales,
    SalesFilter,
    answer_get,
    compare_kind_from_params,
    compared_get,
    customer_type_list,
    dimensions_get,
    discount_impact_get,
    overview_get,
    payment_method_list,
    question_key,
    sales_filter_from_params,
    seasonality_get,
    store_performance_list,
)
from retail_platform.charts import Chart
from retail_platform.errors import ApplicationError
from retail_platform.pages import ViewerRequiredMixin


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FilterState:
    """The filter as read from the query string, and what the filter form needs to show it."""

    sales_filter: SalesFilter
    errors: tuple[str, ...]
    store_options: tuple[Option, ...]
    category_options: tuple[Option, ...]
    # All the data, unfiltered: its first and last day bound the date inputs.
    everything: Overview
    compare: CompareKind | None = None

    @property
    def has_data(self) -> bool:
        return self.everything.first_date is not None

    def context(self) -> dict[str, Any]:
        return {
            "filters": self.sales_filter,
            "filter_errors": self.errors,
            "store_options": self.store_options,
            "store_summary": _chosen(self.store_options, every="All stores", several="stores"),
            "category_options": self.category_options,
            "category_summary": _chosen(self.category_options, every="All categories", several="categories"),
            "bounds": {"first": self.everything.first_date, "last": self.everything.last_date},
            "has_data": self.has_data,
            "compare": self.compare or "",
            "compare_options": [
                Option(value=value, label=label, selected=value == (self.compare or ""))
                for value, label in COMPARE_LABELS.items()
            ],
        }


def _chosen(options: tuple[Option, ...], *, every: str, several: str) -> str:
    """What a multiple-choice filter shows while folded: "All stores", "Kanyon" or "3 stores"."""
    chosen = [option.label for option in options if option.selected]
    if not chosen:
        return every
    return chosen[0] if len(chosen) == 1 else f"{len(chosen)} {several}"


def _options(names: Any, selected: tuple[str, ...]) -> tuple[Option, ...]:
    return tuple(Option(value=name, label=name, selected=name in selected) for name in sorted(names))


def filter_state_from_request(request: HttpRequest) -> FilterState:
    """Read date_from / date_to / store / category; a bad value is reported and the filter dropped."""
    errors: tuple[str, ...] = ()
    try:
        sales_filter = sales_filter_from_params(request.GET)
    except ApplicationError as error:
        sales_filter = SalesFilter()
        errors = (f"{error.message} Showing all sales instead.",)
    compare: CompareKind | None = None
    try:
        compare = compare_kind_from_params(request.GET)
    except ApplicationError as error:
        errors = (*errors, f"{error.message} Showing no comparison.")
    dimensions = dimensions_get()
    return FilterState(
        sales_filter=sales_filter,
        errors=errors,
        store_options=_options(dimensions.store_ids, sales_filter.stores),
        category_options=_options(dimensions.category_ids, sales_filter.categories),
        everything=overview_get(sales_filter=SalesFilter()),
        compare=compare,
    )


COMPARE_LABELS = {"": "No comparison", "previous_period": "Previous period", "previous_year": "Previous year"}


def cached_page(
    name: str, state: FilterState, build: Callable[[SalesFilter, CompareKind | None], dict[str, Any]]
) -> dict[str, Any]:
    """A page's figures and tables, built once per data version, filter and comparison through the read
    model's answer cache: the selectors' answers are cached already, and this keeps the Plotly figure
    building off every request too."""
    question = question_key(state.sales_filter.cache_key, state.compare)
    return answer_get(f"page:{name}", question, lambda _version: build(state.sales_filter, state.compare))


def _comparison(compared: Compared[Any] | None) -> dict[str, Any] | None:
    """What a page says about its comparison: the range compared with, and whether it is like for like."""
    if compared is None:
        return None
    against = compared.against
    return {
        "label": COMPARE_LABELS[against.compare].lower(),
        "base": against.base,
        "has_data": against.has_base_data,
        "partial": against.partial,
    }


def _aligned(
    current: tuple[PeriodSales, ...], base: tuple[PeriodSales, ...], compare: CompareKind
) -> list[PeriodSales | None]:
    """The comparison period's months on the current months' axis: a year later for previous_year, the
    same place for previous_period."""
    if compare == "previous_year":
        by_start = {row.start: row for row in base}
        return [by_start.get(row.start.replace(year=row.start.year - 1)) for row in current]
    return [base[index] if index < len(base) else None for index in range(len(current))]


def overview_page(sales_filter: SalesFilter, compare: CompareKind | None) -> dict[str, Any]:
    overview = overview_get(sales_filter=sales_filter)
    stores = store_performance_list(sales_filter=sales_filter)
    if not (overview.transactions or stores):
        return {"charts": {}}
    customer_types = {row.customer_type: row for row in customer_type_list(sales_filter=sales_filter)}
    repeat = customer_types.get(REPEAT)
    customers_with_type = sum(row.customers for row in customer_types.values())
    seasonality = seasonality_get(sales_filter=sales_filter)
    monthly = seasonality.monthly
    compared = compared_stores = compared_months = None
    if compare is not None:
        compared = compared_get(overview_get, sales_filter=sales_filter, compare=compare, current=overview)
        compared_stores = compared_get(
            store_performance_list, sales_filter=sales_filter, compare=compare, current=stores
        )
        compared_months = compared_get(seasonality_get, sales_filter=sales_filter, compare=compare, current=seasonality)
    store_changes = compared_stores.changes if compared_stores else {}
    return {
        "comparison": _comparison(compared),
        "changes": compared.changes if compared else {},
        "store_rows": [(row, store_changes.get(row.store, {}).get("net_sales")) for row in stores],
        "overview": overview,
        "discount_rate": float(overview.discount / overview.gross_sales) if overview.gross_sales else None,
        "repeat_customer_share": (repeat.customers / customers_with_type) if repeat and customers_with_type else None,
        "repeat_sales_share": repeat.share_of_sales if repeat else None,
        "stores": stores,
        "charts": {
            "stores": Chart.from_figure(
                charts.store_performance_chart(stores),
                key="stores",
                title="Net sales by store",
                description="Horizontal bar chart of net sales per store, highest first; the table below "
                "lists the same figures.",
            ),
            "over_time": Chart.from_figure(
                charts.sales_over_time_chart(
                    monthly,
                    comparison=_aligned(monthly, compared_months.base.monthly, compare)
                    if compared_months and compare
                    else None,
                    comparison_label=f"Net sales, {COMPARE_LABELS[compare].lower()}" if compare else "",
                ),
                key="over-time",
                title="Gross and net sales per month",
                description="Line chart of gross and net sales per month"
                + (", with the net sales of the comparison period dashed." if compare else "."),
            ),
        },
    }


def trends_page(sales_filter: SalesFilter, compare: CompareKind | None) -> dict[str, Any]:
    seasonality = seasonality_get(sales_filter=sales_filter)
    if not seasonality.monthly:
        return {"charts": {}}
    compared = (
        compared_get(seasonality_get, sales_filter=sales_filter, compare=compare, current=seasonality)
        if compare
        else None
    )
    discounts = discount_impact_get(sales_filter=sales_filter)
    payments = payment_method_list(sales_filter=sales_filter)
    return {
        "seasonality": seasonality,
        "comparison": _comparison(compared),
        "discounts": discounts,
        "payments": payments,
        "charts": {
            "monthly": Chart.from_figure(
                charts.monthly_sales_chart(
                    seasonality.monthly,
                    comparison=_aligned(seasonality.monthly, compared.base.monthly, compare)
                    if compared and compare
                    else None,
                    comparison_label=f"Net sales, {COMPARE_LABELS[compare].lower()}" if compare else "",
                ),
                key="monthly",
                title="Net sales per month",
                description="Bar chart of net sales for each month in the selection.",
            ),
            "quarterly": Chart.from_figure(
                charts.quarterly_sales_chart(seasonality.quarterly),
                key="quarterly",
                title="Gross and net sales per quarter",
                description="Grouped bar chart of gross and net sales for each quarter.",
            ),
            "month_of_year": Chart.from_figure(
                charts.month_of_year_chart(seasonality.month_of_year),
                key="month-of-year",
                title="Month-of-year pattern",
                description="Bar chart of the average net sales of each calendar month over the years present.",
            ),
            "discounts": Chart.from_figure(
                charts.discount_impact_chart(discounts.categories),
                key="discounts",
                title="Gross sales, net sales and discount per category",
                description="Grouped bar chart of gross sales, net sales and discount for each category; "
                "the table below lists the same figures.",
            ),
            "payments": Chart.from_figure(
                charts.payment_methods_chart(payments),
                key="payments",
                title="Share of net sales by payment method",
                description="Ring chart of each payment method's share of net sales.",
            ),
        },
    }


class OverviewView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        context.update(state.context())
        if state.has_data:
            context.update(cached_page("overview", state, overview_page))
        return context


class TrendsView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/trends.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        context.update(state.context())
        if state.has_data:
            context.update(cached_page("trends", state, trends_page))
        return context
