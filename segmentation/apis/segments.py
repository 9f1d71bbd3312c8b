"""The segmentation API: customer-level RFM segments and export (analysts), segment aggregates, runs,
movement and category by segment (viewers), and the refit (staff).

Every endpoint reads the active run. Before the first successful run they answer 404 with the one
error shape (`reason: no_segmentation_run`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import django_filters
import numpy as np
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.text import slugify
from django_filters.rest_framework import DjangoFilterBackend
from django_q.tasks import async_task
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.warehouse import sales_filter_from_params
from retail_platform.api.permissions import IsAnalyst, IsStaff, IsViewer
from retail_platform.api.schema import ApiErrorSerializer
from retail_platform.csv_export import csv_streaming_response
from retail_platform.errors import ApplicationError
from retail_platform.formatting import currency_code
from segmentation import clustering, rfm, selectors
from segmentation.models import CustomerSegment

REFIT_TASK = "segmentation.tasks.segmentation_refit_task"
D = rfm.DEFINITIONS
SEGMENT_HELP = "K-Means segment name of the active run (see GET /api/segments for the names)."
RFM_SEGMENT_HELP = "RFM segment: " + ", ".join(rfm.SEGMENTS) + "."


KIND_PARAMETER = OpenApiParameter(
    "kind",
    OpenApiTypes.STR,
    enum=list(selectors.KINDS),
    description="`kmeans` (default): the named K-Means segments; `rfm`: the eleven RFM segments.",
)


def _kind(request: Request) -> selectors.Kind:
    kind = request.query_params.get("kind", "kmeans") or "kmeans"
    if kind not in selectors.KINDS:
        raise ApplicationError(f"kind must be kmeans or rfm, not {kind!r}.", {"kind": kind})
    return kind  # type: ignore[return-value]


# Serializers -------------------------------------------------------------------------------------


class RunSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The segmentation run.")
    k = serializers.IntegerField(allow_null=True, help_text="Number of K-Means segments.")
    silhouette = serializers.FloatField(
        allow_null=True, help_text="Mean silhouette of the final model on the seeded sample (-1..1, higher is better)."
    )
    as_of = serializers.DateField(allow_null=True, help_text=D["as_of"])
    customers = serializers.IntegerField(help_text="Customers segmented (those with at least one purchase).")
    frequency_informative = serializers.BooleanField(
        allow_null=True,
        help_text="False when every customer bought equally often: frequency then carries no information and the "
        "segments come from recency and monetary value.",
    )
    created_at = serializers.DateTimeField(help_text="When the run started.")


class RunSerializer(RunSummarySerializer):
    status = serializers.CharField(help_text="running, succeeded or failed.")
    message = serializers.CharField(allow_blank=True, help_text="Why a run failed, or notes on a successful one.")
    is_active = serializers.BooleanField(help_text="Whether this is the run the pages and the API read.")
    inertia = serializers.FloatField(allow_null=True, help_text="K-Means inertia on the standardised features.")
    duration_seconds = serializers.FloatField(allow_null=True, help_text="How long the refit took.")
    timings = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Seconds per stage: query (R, F, M and each purchase's value, one pass over the lines), scoring, "
        "libraries (what was left to wait for pandas and scikit-learn, loading meanwhile; 0 in a worker that has "
        "refitted before), clustering, saving (the assignments), pruning (old runs' assignments), summaries (what "
        "the pages and the simulator read), and total (the lock wait and the commit excluded).",
    )
    parameters = serializers.JSONField(
        help_text="What made the run: k requested and candidates, random_state, n_init, sample size, features, "
        "silhouette per candidate k."
    )
    import_batch_id = serializers.IntegerField(allow_null=True, help_text="The latest import the run saw.")
    finished_at = serializers.DateTimeField(allow_null=True, help_text="When the run ended.")
    assignments_pruned = serializers.BooleanField(help_text="True for old runs whose customer rows were deleted.")


class SegmentSummarySerializer(serializers.Serializer):
    segment = serializers.CharField(help_text="Segment name.")
    cluster = serializers.IntegerField(
        allow_null=True, help_text="K-Means cluster number, by value (0 = highest); null for RFM segments."
    )
    customers = serializers.IntegerField(help_text="Customers in the segment.")
    share_of_customers = serializers.FloatField(help_text="Customers in the segment / all segmented customers (0..1).")
    net_sales = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Sum of the customers' monetary values (net, returns subtracted)."
    )
    share_of_sales = serializers.FloatField(help_text="net_sales / the net sales of all segmented customers.")
    mean_recency_days = serializers.FloatField(allow_null=True, help_text="Mean recency. " + D["recency"])
    mean_frequency = serializers.FloatField(allow_null=True, help_text="Mean frequency. " + D["frequency"])
    mean_monetary = serializers.DecimalField(
        max_digits=18, decimal_places=2, allow_null=True, help_text="Mean monetary value. " + D["monetary"]
    )


class SegmentsSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="kmeans or rfm.")
    run = RunSummarySerializer(help_text="The run the segments come from (the active one).")
    definitions = serializers.DictField(child=serializers.CharField(), help_text="The definitions in force.")
    naming_rule = serializers.CharField(help_text="How K-Means segments are named.")
    segments = SegmentSummarySerializer(many=True, help_text="One row per segment.")


class CustomerRfmSegmentSerializer(serializers.Serializer):
    customer_id = serializers.CharField(source="external_id", help_text="The customer's id in the retailer's files.")
    recency_days = serializers.IntegerField(help_text=D["recency"])
    frequency = serializers.IntegerField(help_text=D["frequency"])
    monetary = serializers.DecimalField(max_digits=16, decimal_places=2, help_text=D["monetary"])
    r_score = serializers.IntegerField(help_text="Recency score 1-5 (5 = most recent). " + D["scores"])
    f_score = serializers.IntegerField(help_text="Frequency score 1-5 (5 = most frequent).")
    m_score = serializers.IntegerField(help_text="Monetary score 1-5 (5 = highest spending).")
    rfm_segment = serializers.CharField(help_text=D["segments"] + " " + RFM_SEGMENT_HELP)
    cluster = serializers.IntegerField(help_text="K-Means cluster number, by value (0 = highest).")
    segment = serializers.CharField(help_text="K-Means segment name. " + clustering.NAMING_RULE)


class MovementCellSerializer(serializers.Serializer):
    from_segment = serializers.CharField(help_text="Segment in the earlier run.")
    to_segment = serializers.CharField(help_text="Segment in the later run.")
    customers = serializers.IntegerField(help_text="Customers who moved from one to the other (or stayed).")


class MovementSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="kmeans or rfm.")
    from_run = RunSummarySerializer(help_text="The earlier of the two latest successful runs.")
    to_run = RunSummarySerializer(help_text="The latest successful run.")
    from_segments = serializers.ListField(child=serializers.CharField(), help_text="Matrix rows, in order.")
    to_segments = serializers.ListField(child=serializers.CharField(), help_text="Matrix columns, in order.")
    matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Customers per from-segment (row) and to-segment (column); sums to customers_in_both.",
    )
    cells = MovementCellSerializer(many=True, help_text="The non-zero cells of the matrix.")
    customers_in_both = serializers.IntegerField(help_text="Customers present in both runs.")
    only_in_from = serializers.IntegerField(help_text="Customers of the earlier run absent from the later one.")
    only_in_to = serializers.IntegerField(help_text="Customers new in the later run.")


class CategorySegmentSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="Product category.")
    segment = serializers.CharField(help_text="Segment of the customers who bought.")
    net_sales = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Net sales of the category to the segment's customers, in scope."
    )
    share_of_segment = serializers.FloatField(help_text="Share of the segment's net sales in scope (0..1).")
    share_of_category = serializers.FloatField(help_text="Share of the category's net sales in scope (0..1).")


class CategoryBySegmentSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="kmeans or rfm.")
    run = RunSummarySerializer(help_text="The run whose segments are used (the active one).")
    segments = serializers.ListField(child=serializers.CharField(), help_text="The segments, in order.")
    categories = serializers.ListField(child=serializers.CharField(), help_text="Categories with sales in scope.")
    rows = CategorySegmentSerializer(many=True, help_text="One row per category and segment with sales in scope.")


class CategoryFilterSerializer(serializers.Serializer):
    """The analytics filter, documented for the schema (the read model's `sales_filter_from_params` parses
    it: a malformed date, date_from after date_to or an unknown name gets a 400 saying why)."""

    date_from = serializers.DateField(required=False, help_text="First day included (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="Last day included (YYYY-MM-DD).")
    store = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Store names (repeatable); all when absent."
    )
    category = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Category names (repeatable); all when absent."
    )


class RefitSerializer(serializers.Serializer):
    k = serializers.ChoiceField(
        choices=list(clustering.K_CANDIDATES),
        required=False,
        allow_null=True,
        help_text="Number of K-Means segments; chosen by silhouette over 2..8 when absent.",
    )
    as_of = serializers.DateField(required=False, allow_null=True, help_text=D["as_of"])


class RefitQueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField(help_text="Always true: the refit runs in the worker.")
    task_id = serializers.CharField(help_text="The django-q2 task id.")


def _run_summary(run: selectors.RunInfo) -> dict[str, Any]:
    return {
        "id": run.id,
        "k": run.k,
        "silhouette": run.silhouette,
        "as_of": run.as_of,
        "customers": run.customers,
        "frequency_informative": run.frequency_informative,
        "created_at": run.created_at,
    }


# Customer-level endpoints (analysts) -------------------------------------------------------------


class CustomerSegmentFilter(django_filters.FilterSet):
    segment = django_filters.CharFilter(method="filter_segment", help_text=SEGMENT_HELP)
    rfm_segment = django_filters.ChoiceFilter(
        field_name="rfm_segment", choices=[(name, name) for name in rfm.SEGMENTS], help_text=RFM_SEGMENT_HELP
    )
    ordering = django_filters.ChoiceFilter(
        method="order",
        choices=[(name, name) for name in selectors.CUSTOMER_ORDERINGS],
        help_text="Sort order: imported (default: the order customers first appeared in the imports), customer_id, "
        "-monetary, monetary, recency_days or -frequency.",
    )

    class Meta:
        model = CustomerSegment
        fields = ["segment", "rfm_segment", "ordering"]

    def __init__(self, *args: Any, segment_names: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.segment_names = segment_names

    def filter_segment(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value not in self.segment_names:
            raise ApplicationError(
                f"Unknown segment {value!r}. Valid segments: {', '.join(self.segment_names)}.",
                {"segment": value, "valid_segment_values": list(self.segment_names)},
            )
        return queryset.filter(segment=value)

    def order(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.order_by(*selectors.CUSTOMER_ORDERINGS[value])


class RunFilterBackend(DjangoFilterBackend):
    """django-filter, told the active run's segment names (they change from run to run)."""

    def get_filterset_kwargs(self, request: Request, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["segment_names"] = view.run.segment_names
        return kwargs


class CustomerRfmSegmentsApi(generics.ListAPIView):
    """Customer-level: analysts only."""

    permission_classes = [IsAnalyst]
    serializer_class = CustomerRfmSegmentSerializer
    filter_backends = [RunFilterBackend]
    filterset_class = CustomerSegmentFilter

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return CustomerSegment.objects.none()
        self.run = selectors.segmentation_run_get()
        return selectors.customer_segment_queryset(run_id=self.run.id)

    @extend_schema(
        summary="Customers with their R, F, M values, scores, RFM segment and K-Means segment",
        description=(
            "Customers of the active segmentation run, paginated (`page`, `page_size` up to 1,000). "
            + " ".join(D.values())
            + " Needs the analyst role."
        ),
        responses={200: CustomerRfmSegmentSerializer(many=True), 400: ApiErrorSerializer, 404: ApiErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CsvRenderer(BaseRenderer):
    """Lets a client ask for `Accept: text/csv`; the CSV itself is streamed by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)  # only errors get here


EXPORT_COLUMNS = (
    "customer_id",
    "gender",
    "age",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "cluster",
    "segment",
    "p_alive",
    "expected_purchases",
    "clv",
    "currency",
)


class CustomerExportApi(APIView):
    """Customer-level: analysts only."""

    permission_classes = [IsAnalyst]
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="Download a segment's customers as CSV (for a mailing tool)",
        description=(
            "Streams the customers of one segment of the active run: "
            + ", ".join(EXPORT_COLUMNS)
            + ". `monetary` and `clv` are in the currency the `currency` column names (ISO 4217, the same on every "
            "row). p_alive, expected_purchases and clv are the run's customer-value predictions (empty when the data "
            "could not be modelled). `segment` is a K-Means segment name or an RFM segment name. Text cells that a "
            "spreadsheet would "
            "run as a formula (starting with = + - @, tab, carriage return or NUL) are prefixed with a quote. "
            "Needs the analyst role."
        ),
        parameters=[
            OpenApiParameter(
                "segment", OpenApiTypes.STR, required=True, description=SEGMENT_HELP + " Or an " + RFM_SEGMENT_HELP
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
            400: ApiErrorSerializer,
            404: ApiErrorSerializer,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        segment = (request.query_params.get("segment") or "").strip()
        run = selectors.segmentation_run_get()
        valid = run.segment_names + rfm.SEGMENTS
        if segment not in valid:
            raise ApplicationError(
                f"segment must be one of: {', '.join(valid)}." if segment else "segment is required.",
                {"segment": segment, "valid_segment_values": list(valid)},
            )
        is_rfm = segment in rfm.SEGMENTS
        rows = (
            selectors.customer_segment_queryset(
                run_id=run.id, segment=None if is_rfm else segment, rfm_segment=segment if is_rfm else None
            )
            .values_list(
                "customer_id",
                "customer__external_id",
                "customer__gender",
                "customer__age",
                "recency_days",
                "frequency",
                "monetary",
                "r_score",
                "f_score",
                "m_score",
                "rfm_segment",
                "cluster",
                "segment",
            )
            .iterator(chunk_size=2_000)
        )
        currency = (currency_code(),)
        file_name = f"customers-{slugify(segment) or 'segment'}-run{run.id}-{datetime.date.today().isoformat()}.csv"
        return csv_streaming_response(file_name, EXPORT_COLUMNS, (row + currency for row in _with_values(run.id, rows)))


def _with_values(run_id: int, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Each row (customer pk first) without its pk, with the customer's p_alive, expected purchases and
    CLV (blank when the run has no customer-value predictions)."""
    try:
        info = selectors.customer_value_model_get(run_id=run_id)
        table = (
            selectors.value_table_get(
                run_id=run_id, horizon_days=info.horizon_days, discount_rate=info.annual_discount_rate
            )
            if info.fitted
            else None
        )
    except ApplicationError:
        table = None
    for pk, *fields in rows:
        position = int(np.searchsorted(table.customer_ids, pk)) if table is not None else 0
        if table is not None and position < len(table.customer_ids) and table.customer_ids[position] == pk:
            figures = (table.p_alive[position], table.expected_purchases[position], table.clv[position])
            yield (*fields, *(float(value) for value in figures))
        else:
            yield (*fields, "", "", "")


# Aggregates (viewers) ----------------------------------------------------------------------------


class SegmentsApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        summary="Segments of the active run: size, sales and mean R, F, M",
        description=(
            "One row per segment with customers, share of customers, net sales, share of sales and mean recency, "
            "frequency and monetary value, plus the run it came from. " + " ".join(D.values())
        ),
        parameters=[KIND_PARAMETER],
        responses={200: SegmentsSerializer, 400: ApiErrorSerializer, 404: ApiErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        kind = _kind(request)
        run = selectors.segmentation_run_get()
        summaries = selectors.segment_summary_list(kind=kind, run_id=run.id)
        data = {
            "kind": kind,
            "run": _run_summary(run),
            "definitions": rfm.DEFINITIONS,
            "naming_rule": clustering.NAMING_RULE,
            "segments": [summary.__dict__ for summary in summaries],
        }
        return Response(SegmentsSerializer(data).data)


class RunsApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        summary="Segmentation runs, newest first",
        description="The latest runs (failed ones included) with their parameters and figures.",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description="How many runs (1-200, default 50).")],
        responses={200: RunSerializer(many=True), 400: ApiErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("limit") or "50"
        if not raw.isdigit() or not 1 <= int(raw) <= 200:
            raise ApplicationError("limit must be a whole number from 1 to 200.", {"limit": raw})
        runs = selectors.segmentation_run_list(limit=int(raw))
        return Response(RunSerializer([run.__dict__ for run in runs], many=True).data)


class MovementApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        summary="How customers moved between the segments of the two latest runs",
        description=(
            "A from -> to matrix of customer counts between the two latest successful runs; it sums to the "
            "customers present in both. 404 until there are two runs."
        ),
        parameters=[KIND_PARAMETER],
        responses={200: MovementSerializer, 400: ApiErrorSerializer, 404: ApiErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        kind = _kind(request)
        movement = selectors.segment_movement_get(kind=kind)
        if movement is None:
            raise ApplicationError(
                "The movement needs two successful segmentation runs; refit after the next import.",
                {"reason": "fewer_than_two_runs"},
                status=404,
            )
        data = {
            "kind": kind,
            "from_run": _run_summary(movement.from_run),
            "to_run": _run_summary(movement.to_run),
            "from_segments": movement.from_segments,
            "to_segments": movement.to_segments,
            "matrix": movement.matrix(),
            "cells": [cell.__dict__ for cell in movement.cells],
            "customers_in_both": movement.customers_in_both,
            "only_in_from": movement.only_in_from,
            "only_in_to": movement.only_in_to,
        }
        return Response(MovementSerializer(data).data)


class CategoryBySegmentApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        summary="Net sales per category and segment",
        description=(
            "Net sales (returns subtracted) of each category to the customers of each segment of the active run, "
            "with the same date and store/category filters as the analytics endpoints (dates inclusive, names "
            "repeatable). Customers with only returns are not segmented and not counted."
        ),
        parameters=[KIND_PARAMETER, CategoryFilterSerializer],
        responses={200: CategoryBySegmentSerializer, 400: ApiErrorSerializer, 404: ApiErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        kind = _kind(request)
        result = selectors.category_by_segment_get(
            kind=kind, sales_filter=sales_filter_from_params(request.query_params)
        )
        data = {
            "kind": kind,
            "run": _run_summary(result.run),
            "segments": result.segments,
            "categories": result.categories,
            "rows": [row.__dict__ for row in result.rows],
        }
        return Response(CategoryBySegmentSerializer(data).data)


# Refit (staff) -----------------------------------------------------------------------------------


class RefitApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="Queue a refit of the segmentation",
        description="Queues the refit for the worker; the new run appears in GET /api/segmentation/runs. Staff only.",
        request=RefitSerializer,
        responses={202: RefitQueuedSerializer, 400: ApiErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        body = RefitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        as_of = body.validated_data.get("as_of")
        # Nothing is written here, so there is no commit to wait for before the worker looks.
        task_id = async_task(
            REFIT_TASK,
            None,
            body.validated_data.get("k"),
            as_of.isoformat() if as_of else None,
            task_name="segmentation refit (API)",
        )
        return Response({"queued": True, "task_id": task_id}, status=status.HTTP_202_ACCEPTED)
