"""The import API for staff: upload a transactions file, follow its batch, get its error report, retry.

The same pipeline as the admin and `import_transactions`: the upload is stored and queued by
`import_batch_create`, and the django-q2 worker imports it.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import import_inputs
from analytics.models import ImportBatch
from analytics.selectors.import_reports import (
    ERROR_REPORT_COLUMNS,
    import_batch_error_rows,
    import_batch_errors_file_name,
    import_batch_get,
    import_batch_list,
    import_batch_progress,
)
from analytics.services.import_deletion import import_batch_delete
from analytics.services.import_retry import import_batch_retry
from retail_platform.api.pagination import PageNumberPagination
from retail_platform.api.permissions import IsStaff
from retail_platform.api.schema import ApiErrorSerializer
from retail_platform.csv_export import csv_streaming_response

# Room for the other form fields of a multipart body on top of the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
FIRST_ERRORS = 20

BATCH_ID = OpenApiParameter("batch_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The import batch id.")


class ImportErrorRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="The row number in the file (the header is row 1).")
    column = serializers.CharField(allow_blank=True, help_text="The column at fault, when one is.")
    value = serializers.CharField(allow_blank=True, help_text="The value as read from the file.")
    reason = serializers.CharField(help_text="Why the row was rejected.")


class ImportBatchSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(help_text="Percent done (100 once the batch succeeded).")
    first_errors = serializers.SerializerMethodField(help_text=f"The first {FIRST_ERRORS} per-row errors.")
    uploaded_by = serializers.SerializerMethodField(help_text="Username of who uploaded it, when a person did.")
    errors_csv_url = serializers.SerializerMethodField(help_text="Where to download the whole error report as CSV.")
    timings = serializers.DictField(
        child=serializers.FloatField(), help_text="Seconds per stage: read, validate, load, aggregates (and refit)."
    )
    warnings = serializers.ListField(child=serializers.CharField(), help_text="File-level warnings.")

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "file_name",
            "sha256",
            "size_bytes",
            "source",
            "mapping_name",
            "skip_invalid",
            "status",
            "stage",
            "progress",
            "rows_read",
            "imported",
            "rejected",
            "duplicates",
            "error_count",
            "first_errors",
            "errors_csv_url",
            "warnings",
            "message",
            "timings",
            "attempts",
            "uploaded_by",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "The import batch id."},
            "file_name": {"help_text": "The uploaded file's name."},
            "sha256": {"help_text": "SHA-256 of the file's bytes."},
            "size_bytes": {"help_text": "The file's size in bytes."},
            "source": {"help_text": "How the file came in: admin, command, api or inbox."},
            "mapping_name": {"help_text": "The column mapping preset used."},
            "status": {"help_text": "queued, running, succeeded or failed."},
            "stage": {"help_text": "The stage running now: read, validate, load or aggregates."},
            "rows_read": {"help_text": "Data rows read (rows_read = imported + rejected + duplicates)."},
            "imported": {"help_text": "Lines imported."},
            "rejected": {"help_text": "Rows rejected as invalid."},
            "duplicates": {"help_text": "Rows already imported before, skipped."},
            "error_count": {"help_text": "How many per-row errors there were (the first 1,000 are kept)."},
            "message": {"help_text": "The outcome, or why the import failed."},
            "attempts": {"help_text": "How many times a worker started this import."},
            "created_at": {"help_text": "When the file was uploaded."},
            "queued_at": {"help_text": "When the batch was last queued (uploaded or retried)."},
            "started_at": {"help_text": "When a worker started the import."},
            "finished_at": {"help_text": "When the import ended."},
        }

    @extend_schema_field(OpenApiTypes.INT)
    def get_progress(self, batch: ImportBatch) -> int:
        return import_batch_progress(batch)

    @extend_schema_field(ImportErrorRowSerializer(many=True))
    def get_first_errors(self, batch: ImportBatch) -> list[dict[str, Any]]:
        rows = itertools.islice(import_batch_error_rows(batch), FIRST_ERRORS)
        return [dict(zip(ERROR_REPORT_COLUMNS, row, strict=True)) for row in rows]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_uploaded_by(self, batch: ImportBatch) -> str | None:
        return batch.uploaded_by.get_username() if batch.uploaded_by else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_errors_csv_url(self, batch: ImportBatch) -> str:
        return reverse("api:import-errors-csv", kwargs={"batch_id": batch.pk})


class ImportCreateSerializer(serializers.Serializer):
    """What a POST /api/imports carries (multipart/form-data). Parsing only: the service decides."""

    file = serializers.FileField(help_text="The transactions file (CSV).")
    mapping = serializers.CharField(
        required=False,
        default="mall",
        help_text="A column mapping preset: a shipped one (`mall`, `online_retail_ii`) or a saved one.",
    )
    mapping_json = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A JSON column mapping for this file only; it overrides `mapping`.",
    )
    skip_invalid = serializers.BooleanField(
        required=False, default=False, help_text="Import the valid rows and report the rest."
    )


class CsvRenderer(BaseRenderer):
    """Lets a client ask for `Accept: text/csv`; the CSV itself is streamed by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)  # only errors get here


class ImportBatchPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Import batches in all pages.")
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null on the first one.")
    results = ImportBatchSerializer(many=True, help_text="This page's batches, newest first.")


class ImportDeletionSerializer(serializers.Serializer):
    batch_id = serializers.IntegerField()
    file_name = serializers.CharField()
    lines = serializers.IntegerField(help_text="Lines deleted.")
    lines_kept = serializers.IntegerField(help_text="Lines another remaining import also delivered: kept, with it.")
    net_sales = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Net sales of the lines deleted.")
    customers = serializers.IntegerField(help_text="Customers left with no line, deleted.")
    stores = serializers.DictField(child=serializers.IntegerField(), help_text="Lines deleted per store.")
    dimensions = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Stores, categories and payment methods left with no line, deleted.",
    )


class StaffImportApi(APIView):
    permission_classes = [IsStaff]


class ImportListCreateApi(StaffImportApi):
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Refuse an upload that is over the limit before anything reads its body: the session
        # authentication's CSRF check would otherwise parse (and spool to disk) all of it first.
        if request.method == "POST":
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
            if declared > settings.IMPORT_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
                import_inputs.upload_size_check(declared)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="imports_list",
        summary="List import batches",
        description="The import batches, newest first (staff only), paginated.",
        parameters=[
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter("page_size", int, description="Batches per page (default 100, at most 1,000)."),
        ],
        responses={200: ImportBatchPageSerializer, 403: ApiErrorSerializer, 404: ApiErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(import_batch_list(), request, view=self)
        return paginator.get_paginated_response(ImportBatchSerializer(page, many=True).data)

    @extend_schema(
        summary="Upload a transactions file to import",
        description=(
            "Stores the file and queues its import for the worker; answers 202 with the batch, whose "
            "`status`, `progress` and counts to follow at `GET /api/imports/{id}`. Staff only. A file over "
            "the size limit (IMPORT_MAX_UPLOAD_BYTES) gets 413 without being stored."
        ),
        request={"multipart/form-data": ImportCreateSerializer},
        responses={
            202: ImportBatchSerializer,
            400: ApiErrorSerializer,
            403: ApiErrorSerializer,
            413: OpenApiResponse(ApiErrorSerializer, description="The file is over the upload size limit."),
        },
    )
    def post(self, request: Request) -> Response:
        from analytics.services.import_batches import import_batch_create

        params = ImportCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        upload = params.validated_data["file"]
        import_inputs.upload_size_check(upload.size)
        mapping_text = params.validated_data["mapping_json"].strip()
        mapping = import_inputs.mapping_json_parse(mapping_text) if mapping_text else None
        mapping_name = params.validated_data["mapping"]
        if mapping is None:
            import_inputs.mapping_name_check(mapping_name)
        batch = import_batch_create(
            path_or_file=upload,
            file_name=upload.name,
            source=ImportBatch.Source.API,
            uploaded_by=request.user,
            mapping_name=mapping_name,
            mapping=mapping,
            skip_invalid=params.validated_data["skip_invalid"],
        )
        batch = import_batch_get(batch_id=batch.pk)
        headers = {"Location": reverse("api:import-detail", kwargs={"batch_id": batch.pk})}
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED, headers=headers)


class ImportDetailApi(StaffImportApi):
    @extend_schema(
        summary="Follow an import",
        description="Status, stage, progress, counts, timings, message and the first errors of one batch.",
        parameters=[BATCH_ID],
        responses={200: ImportBatchSerializer, 403: ApiErrorSerializer, 404: ApiErrorSerializer},
    )
    def get(self, request: Request, batch_id: str) -> Response:
        return Response(ImportBatchSerializer(import_batch_get(batch_id=int(batch_id))).data)

    @extend_schema(
        summary="Delete an import",
        description=(
            "Takes a succeeded import back, in one transaction under the same lock as imports: its lines go "
            "(except those a remaining import also delivered: they stay, with that import), every table, "
            "rollup and cached answer becomes what it would be had it never been imported, customers, stores, "
            "categories and payment methods left with no line go, and the segmentation is refitted. The "
            "batch stays as the record (status deleted, who, when, what went). 409 for a batch that did not "
            "succeed (or is deleted already)."
        ),
        parameters=[BATCH_ID],
        responses={
            200: ImportDeletionSerializer,
            403: ApiErrorSerializer,
            404: ApiErrorSerializer,
            409: ApiErrorSerializer,
        },
    )
    def delete(self, request: Request, batch_id: str) -> Response:
        deletion = import_batch_delete(batch_id=int(batch_id), user=request.user)
        return Response(ImportDeletionSerializer(asdict(deletion)).data)


class ImportErrorsCsvApi(StaffImportApi):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="Download an import's error report as CSV",
        description=(
            "One line per rejected row kept (the first 1,000): row, column, value, reason. Cells that a "
            "spreadsheet would run as a formula are prefixed with a quote."
        ),
        parameters=[BATCH_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV report."),
            403: ApiErrorSerializer,
            404: ApiErrorSerializer,
        },
    )
    def get(self, request: Request, batch_id: str) -> Any:
        batch = import_batch_get(batch_id=int(batch_id))
        return csv_streaming_response(
            import_batch_errors_file_name(batch), ERROR_REPORT_COLUMNS, import_batch_error_rows(batch)
        )


class ImportRetryApi(StaffImportApi):
    @extend_schema(
        summary="Retry a failed import",
        description=(
            "Puts a failed batch back on the queue (status queued, attempts 0) and answers 202 with it. "
            "Only a failed batch can be retried (409 otherwise)."
        ),
        parameters=[BATCH_ID],
        request=None,
        responses={
            202: ImportBatchSerializer,
            403: ApiErrorSerializer,
            404: ApiErrorSerializer,
            409: ApiErrorSerializer,
        },
    )
    def post(self, request: Request, batch_id: str) -> Response:
        batch = import_batch_retry(batch_id=int(batch_id))
        return Response(
            ImportBatchSerializer(import_batch_get(batch_id=batch.pk)).data, status=status.HTTP_202_ACCEPTED
        )
