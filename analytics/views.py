"""Pages: Overview, Performance & Trends, Imports. Each view parses the query string, calls the
analytics selectors, builds figures with analytics.charts and renders; no business rule lives here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.views.generic import TemplateView

from analytics import charts
from analytics.selectors.customers import REPEAT, customer_type_list
from analytics.selectors.discounts import discount_impact_get
from analytics.selectors.filters import SalesFilter, dimensions_get, sales_filter_from_params
from analytics.selectors.sales import Overview, overview_get, payment_method_list, store_performance_list
from analytics.selectors.seasonality import seasonality_get
from analytics.services.rollups import data_version_get
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

    @property
    def has_data(self) -> bool:
        return self.everything.first_date is not None

    def context(self) -> dict[str, Any]:
        return {
            "filters": self.sales_filter,
            "filter_errors": self.errors,
            "store_options": self.store_options,
            "category_options": self.category_options,
            "bounds": {"first": self.everything.first_date, "last": self.everything.last_date},
            "has_data": self.has_data,
        }


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
    dimensions = dimensions_get(data_version=data_version_get())
    return FilterState(
        sales_filter=sales_filter,
        errors=errors,
        store_options=_options(dimensions.store_ids, sales_filter.stores),
        category_options=_options(dimensions.category_ids, sales_filter.categories),
        everything=overview_get(sales_filter=SalesFilter()),
    )


class OverviewView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        context.update(state.context())
        if not state.has_data:
            return context
        sales_filter = state.sales_filter
        overview = overview_get(sales_filter=sales_filter)
        stores = store_performance_list(sales_filter=sales_filter)
        customer_types = {row.customer_type: row for row in customer_type_list(sales_filter=sales_filter)}
        repeat = customer_types.get(REPEAT)
        customers_with_type = sum(row.customers for row in customer_types.values())
        monthly = seasonality_get(sales_filter=sales_filter).monthly
        context.update(
            overview=overview,
            discount_rate=float(overview.discount / overview.gross_sales) if overview.gross_sales else None,
            repeat_customer_share=(repeat.customers / customers_with_type) if repeat and customers_with_type else None,
            repeat_sales_share=repeat.share_of_sales if repeat else None,
            stores=stores,
            charts={
                "stores": Chart.from_figure(
                    charts.store_performance_chart(stores),
                    key="stores",
                    title="Net sales by store",
                    description="Horizontal bar chart of net sales per store, highest first; the table below "
                    "lists the same figures.",
                ),
                "over_time": Chart.from_figure(
                    charts.sales_over_time_chart(monthly),
                    key="over-time",
                    title="Gross and net sales per month",
                    description="Line chart of gross and net sales per month.",
                ),
            }
            if overview.transactions or stores
            else {},
        )
        return context


class TrendsView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/trends.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        context.update(state.context())
        if not state.has_data:
            return context
        sales_filter = state.sales_filter
        seasonality = seasonality_get(sales_filter=sales_filter)
        discounts = discount_impact_get(sales_filter=sales_filter)
        payments = payment_method_list(sales_filter=sales_filter)
        context.update(
            seasonality=seasonality,
            discounts=discounts,
            payments=payments,
            charts={
                "monthly": Chart.from_figure(
                    charts.monthly_sales_chart(seasonality.monthly),
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
            }
            if seasonality.monthly
            else {},
        )
        return context


class ImportsView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/imports.html"
