"""Pages: Overview, Performance & Trends, Imports. Each view parses the request, calls the analytics
selectors (or, for an upload, import_batch_create), builds figures with analytics.charts and
renders; no business rule lives here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import TemplateView

from analytics import charts, import_inputs
from analytics.forms import ImportUploadForm
from analytics.import_progress import ImportProgress, import_progress
from analytics.models import ImportBatch
from analytics.selectors.import_reports import import_batch_list
from analytics.services.import_batches import import_batch_create
from analytics.warehouse import (
    REPEAT,
    Overview,
    SalesFilter,
    answer_get,
    customer_type_list,
    dimensions_get,
    discount_impact_get,
    overview_get,
    payment_method_list,
    sales_filter_from_params,
    seasonality_get,
    store_performance_list,
)
from retail_platform import roles
from retail_platform.charts import Chart
from retail_platform.errors import ApplicationError
from retail_platform.formatting import thousands
from retail_platform.pages import ViewerRequiredMixin
from retail_platform.uploads import request_body_within_limit


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
            "store_summary": _chosen(self.store_options, every="All stores", several="stores"),
            "category_options": self.category_options,
            "category_summary": _chosen(self.category_options, every="All categories", several="categories"),
            "bounds": {"first": self.everything.first_date, "last": self.everything.last_date},
            "has_data": self.has_data,
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
    dimensions = dimensions_get()
    return FilterState(
        sales_filter=sales_filter,
        errors=errors,
        store_options=_options(dimensions.store_ids, sales_filter.stores),
        category_options=_options(dimensions.category_ids, sales_filter.categories),
        everything=overview_get(sales_filter=SalesFilter()),
    )


def cached_page(name: str, sales_filter: SalesFilter, build: Callable[[SalesFilter], dict[str, Any]]) -> dict[str, Any]:
    """A page's figures and tables, built once per data version and filter through the read model's
    answer cache: the selectors' answers are cached already, and this keeps the Plotly figure
    building off every request too."""
    return answer_get(f"page:{name}", sales_filter.cache_key, lambda _version: build(sales_filter))


def overview_page(sales_filter: SalesFilter) -> dict[str, Any]:
    overview = overview_get(sales_filter=sales_filter)
    stores = store_performance_list(sales_filter=sales_filter)
    if not (overview.transactions or stores):
        return {"charts": {}}
    customer_types = {row.customer_type: row for row in customer_type_list(sales_filter=sales_filter)}
    repeat = customer_types.get(REPEAT)
    customers_with_type = sum(row.customers for row in customer_types.values())
    monthly = seasonality_get(sales_filter=sales_filter).monthly
    return {
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
                charts.sales_over_time_chart(monthly),
                key="over-time",
                title="Gross and net sales per month",
                description="Line chart of gross and net sales per month.",
            ),
        },
    }


def trends_page(sales_filter: SalesFilter) -> dict[str, Any]:
    seasonality = seasonality_get(sales_filter=sales_filter)
    if not seasonality.monthly:
        return {"charts": {}}
    discounts = discount_impact_get(sales_filter=sales_filter)
    payments = payment_method_list(sales_filter=sales_filter)
    return {
        "seasonality": seasonality,
        "discounts": discounts,
        "payments": payments,
        "charts": {
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
        },
    }


class OverviewView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        context.update(state.context())
        if state.has_data:
            context.update(cached_page("overview", state.sales_filter, overview_page))
        return context


class TrendsView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/trends.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = filter_state_from_request(self.request)
        context.update(state.context())
        if state.has_data:
            context.update(cached_page("trends", state.sales_filter, trends_page))
        return context


IMPORTS_SHOWN = 50
ACTIVE_STATUSES = (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)


COUNTS = ("rows_read", "imported", "rejected", "duplicates", "error_count")


def _progress(batch: ImportBatch) -> ImportProgress:
    return import_progress(status=batch.status, stage=batch.stage, stage_percent=batch.progress)


def _batch_state(batch: ImportBatch, *, with_message: bool) -> dict[str, Any]:
    """What the progress poller needs about one batch (counts only; the message, which can quote the
    file, only for staff). Counts come formatted too, so the page shows them as the server does."""
    progress = _progress(batch)
    state: dict[str, Any] = {
        "id": batch.pk,
        "status": batch.status,
        "stage": batch.stage,
        "progress": progress.percent,
        "step": progress.step,
        **{name: getattr(batch, name) for name in COUNTS},
        "text": {name: thousands(getattr(batch, name)) for name in COUNTS},
    }
    if with_message:
        state["message"] = batch.message
    return state


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), once the body is read (see there)
class ImportsView(ViewerRequiredMixin, View):
    """The import batches, newest first, with live progress; staff also get the upload form and
    each batch's error report."""

    template_name = "analytics/imports.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ImportUploadForm() if roles.user_is_staff(request.user) else None
        return self._render(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        if not roles.user_is_staff(request.user):
            raise PermissionDenied
        # The body is read here (see request_body_within_limit); the CSRF check then runs as usual
        # before anything is done with the form.
        if not request_body_within_limit(request):
            form = ImportUploadForm()
            form.cleaned_data = {}
            form.add_error("file", import_inputs.upload_too_large_message())
            return self._render(request, form, status=413)
        return csrf_protect(self._upload)(request)

    def _upload(self, request: HttpRequest) -> HttpResponse:
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    batch = import_batch_create(
                        path_or_file=upload,
                        file_name=upload.name,
                        source=ImportBatch.Source.WEB,
                        uploaded_by=request.user,
                        mapping_name=form.cleaned_data["mapping_name"],
                        skip_invalid=form.cleaned_data["skip_invalid"],
                    )
            except ApplicationError as error:
                form.add_error("file" if error.status == 413 else None, error.message)
            else:
                messages.success(request, f"Import #{batch.pk} of {batch.file_name} is queued; progress shows below.")
                return redirect(f"{reverse('analytics:imports')}#batch-{batch.pk}")
        too_large = any(error.code == "too_large" for error in form.errors.as_data().get("file", []))
        return self._render(request, form, status=413 if too_large else 400)

    def _render(self, request: HttpRequest, form: ImportUploadForm | None, *, status: int = 200) -> HttpResponse:
        batches = list(import_batch_list()[:IMPORTS_SHOWN])
        context = {
            "form": form,
            "batches": [
                {"batch": batch, "progress": _progress(batch), "active": batch.status in ACTIVE_STATUSES}
                for batch in batches
            ],
            "any_active": any(batch.status in ACTIVE_STATUSES for batch in batches),
            "max_upload_bytes": settings.IMPORT_MAX_UPLOAD_BYTES,
        }
        return render(request, self.template_name, context, status=status)


class ImportStatusView(ViewerRequiredMixin, View):
    """GET /imports/status/?ids=3,4 -> {"batches": [...]}: what static/js/imports.js polls."""

    def get(self, request: HttpRequest) -> JsonResponse:
        ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip().isdigit()][:IMPORTS_SHOWN]
        with_message = roles.user_is_staff(request.user)
        batches = import_batch_list().filter(pk__in=ids) if ids else import_batch_list().none()
        response = JsonResponse({"batches": [_batch_state(batch, with_message=with_message) for batch in batches]})
        response["Cache-Control"] = "no-store"
        return response
