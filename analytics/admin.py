"""The Django admin: import batches (upload, follow, retry, error report) and the sales dimensions.

Uploading goes through the same service as the API and the command (`import_batch_create`), which
queues the import for the worker. Batches are an audit trail: nobody edits or deletes them here.
Dimensions cannot be deleted from the admin either: their lines protect them, and the admin would
load every protecting line to say so.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from rest_framework.exceptions import APIException

from analytics import import_inputs
from analytics.forms import ImportUploadAdminForm, application_form_error
from analytics.models import Category, ColumnMapping, Customer, ImportBatch, PaymentMethod, Store, TransactionLine
from analytics.selectors.import_reports import (
    ERROR_REPORT_COLUMNS,
    import_batch_error_rows,
    import_batch_errors_file_name,
    import_batch_progress,
)
from analytics.services.import_deletion import import_batch_delete, import_batch_deletion_preview
from analytics.services.import_retry import import_batch_retry
from retail_platform import roles
from retail_platform.citus import estimated_rows
from retail_platform.csv_export import csv_streaming_response
from retail_platform.errors import ApplicationError

STAGE_ORDER = ("read", "validate", "load", "aggregates", "refit")


def _is_too_large(error: Exception) -> bool:
    return isinstance(error, RequestDataTooBig) or getattr(error, "status_code", None) == 413


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) or None
    except ValueError:
        return None


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered big table from PostgreSQL's statistics instead of a full COUNT(*)."""

    @cached_property
    def count(self) -> int:
        assert isinstance(self.object_list, QuerySet)  # the admin paginates querysets
        query = self.object_list.query
        if not query.where and query.model is not None:
            with connection.cursor() as cursor:
                estimate = estimated_rows(cursor, query.model._meta.db_table)
            if estimate > 0:
                return estimate
        return super().count


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "file_name",
        "status",
        "progress_display",
        "rows_read",
        "imported",
        "rejected",
        "duplicates",
        "source",
        "uploaded_by",
        "created_at",
        "finished_at",
    ]
    list_display_links = ["id", "file_name"]
    list_filter = ["status", "source"]
    search_fields = ["file_name", "=sha256"]
    list_select_related = ["uploaded_by"]
    actions = ["retry_selected", "delete_selected_imports"]
    fieldsets = [
        (None, {"fields": ["file_name", "status", "progress_display", "message", "warnings_display"]}),
        ("Counts", {"fields": ["rows_read", "imported", "rejected", "duplicates", "error_count"]}),
        ("Errors", {"fields": ["error_report"]}),
        (
            "Timings",
            {
                "fields": [
                    "timings_display",
                    "load_path",
                    "created_at",
                    "queued_at",
                    "started_at",
                    "finished_at",
                    "attempts",
                ]
            },
        ),
        (
            "File",
            {
                "fields": [
                    "file_download",
                    "sha256",
                    "size_display",
                    "source",
                    "uploaded_by",
                    "mapping_name",
                    "mapping",
                    "skip_invalid",
                ]
            },
        ),
    ]
    upload_template = "admin/analytics/importbatch/upload.html"

    # Importing is a staff capability (retail_platform.roles): any staff member in the admin may
    # upload and follow imports. The detail page is a read-only report; uploads go through add_view.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return roles.user_is_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: ImportBatch | None = None) -> bool:
        return roles.user_is_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return roles.user_is_staff(request.user)

    def has_change_permission(self, request: HttpRequest, obj: ImportBatch | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImportBatch | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: ImportBatch | None = None) -> list[str]:
        return [str(field) for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    @admin.display(description="progress")
    def progress_display(self, batch: ImportBatch) -> str:
        percent = import_batch_progress(batch)
        if batch.status == ImportBatch.Status.RUNNING and batch.stage:
            return f"{percent}% ({batch.stage})"
        return f"{percent}%"

    @admin.display(description="size")
    def size_display(self, batch: ImportBatch) -> str:
        return filesizeformat(batch.size_bytes)

    @admin.display(description="timings")
    def timings_display(self, batch: ImportBatch) -> str:
        timings = batch.timings or {}
        if not timings:
            return "-"
        # JSONB keeps keys in its own order: show the stages in the order they run.
        stages = sorted(timings, key=lambda stage: (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else 99, stage))
        return " · ".join(f"{stage} {float(timings[stage]):.2f} s" for stage in stages)

    @admin.display(description="file")
    def file_download(self, batch: ImportBatch) -> str:
        """A link to the stored file, served by the admin to staff (MEDIA_URL is served by nobody)."""
        if not batch.file or not batch.file.storage.exists(batch.file.name):
            return "The stored file is gone."
        download = reverse("admin:analytics_importbatch_file", args=[batch.pk])
        return format_html('<a href="{}">{}</a> ({})', download, batch.file_name, filesizeformat(batch.size_bytes))

    @admin.display(description="warnings")
    def warnings_display(self, batch: ImportBatch) -> str:
        if not batch.warnings:
            return "-"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in batch.warnings)))

    @admin.display(description="error report")
    def error_report(self, batch: ImportBatch) -> str:
        rows = list(import_batch_error_rows(batch))
        if not rows:
            return "No errors."
        download = reverse("admin:analytics_importbatch_errors_csv", args=[batch.pk])
        kept = len(rows)
        more = batch.error_count - kept
        summary = f"{batch.error_count} errors" + (f"; the first {kept} are kept" if more > 0 else "")
        head = format_html_join("", "<th>{}</th>", ((column,) for column in ERROR_REPORT_COLUMNS))
        body = format_html_join(
            "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
        )
        return format_html(
            '<p>{} — <a href="{}">download as CSV</a></p>'
            '<table class="import-errors"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            summary,
            download,
            head,
            body,
        )

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:batch_id>/errors.csv",
                self.admin_site.admin_view(self.errors_csv_view),
                name="analytics_importbatch_errors_csv",
            ),
            path(
                "<int:batch_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="analytics_importbatch_file",
            ),
        ]
        return custom + super().get_urls()

    def errors_csv_view(self, request: HttpRequest, batch_id: int) -> HttpResponse | StreamingHttpResponse:
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if not self.has_view_permission(request, batch):
            return HttpResponse(status=403)
        return csv_streaming_response(
            import_batch_errors_file_name(batch), ERROR_REPORT_COLUMNS, import_batch_error_rows(batch)
        )

    def file_view(self, request: HttpRequest, batch_id: int) -> HttpResponse | FileResponse:
        """The uploaded file as stored, to staff, as a download (never shown inline: it is the
        uploader's content)."""
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if not self.has_view_permission(request, batch):
            return HttpResponse(status=403)
        if not batch.file or not batch.file.storage.exists(batch.file.name):
            raise Http404("The stored file is gone.")
        return FileResponse(
            batch.file.storage.open(batch.file.name, "rb"),
            as_attachment=True,
            filename=batch.file_name,
            content_type="application/octet-stream",
        )

    @method_decorator(csrf_exempt)
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """The upload form. Saving it stores the file and queues the import (`import_batch_create`).

        The body is read here rather than by the CSRF middleware, so that an upload the upload
        handlers refuse as too large (retail_platform.uploads) comes back as a form error, not a bare
        400 page; the CSRF check then runs as usual before anything is done with the form.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                request.POST  # noqa: B018  parse the body now, with the project's upload handlers
            except (SuspiciousOperation, APIException) as error:
                if not _is_too_large(error):
                    raise
                form = ImportUploadAdminForm()
                form.cleaned_data = {}  # an unbound form takes errors once it has (empty) cleaned data
                form.add_error("file", import_inputs.upload_too_large_message(_declared_length(request)))
                return self._upload_response(request, form, status=413)
        return csrf_protect(self._add_view_checked)(request)

    def _add_view_checked(self, request: HttpRequest) -> HttpResponse:
        form: ImportUploadAdminForm
        if request.method == "POST":
            form = ImportUploadAdminForm(request.POST, request.FILES)
            if form.is_valid():
                batch = self._create_batch(request, form)
                if batch is not None:
                    self.log_addition(request, batch, [{"added": {}}])
                    self.message_user(
                        request, f"Import #{batch.pk} of {batch.file_name} is queued.", level=messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:analytics_importbatch_change", args=[batch.pk]))
            too_large = any(error.code == "too_large" for error in form.errors.as_data().get("file", []))
            return self._upload_response(request, form, status=413 if too_large else 400)
        return self._upload_response(request, ImportUploadAdminForm(), status=200)

    def _create_batch(self, request: HttpRequest, form: ImportUploadAdminForm) -> ImportBatch | None:
        from analytics.services.import_batches import import_batch_create

        upload = form.cleaned_data["file"]
        try:
            with transaction.atomic():
                return import_batch_create(
                    path_or_file=upload,
                    file_name=upload.name,
                    source=ImportBatch.Source.ADMIN,
                    uploaded_by=request.user,
                    mapping_name=form.cleaned_data["mapping_name"],
                    mapping=form.cleaned_data["mapping_json"],
                    skip_invalid=form.cleaned_data["skip_invalid"],
                )
        except ApplicationError as error:
            form.add_error(None, error.message)
            return None

    def _upload_response(self, request: HttpRequest, form: ImportUploadAdminForm, *, status: int) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload transactions",
            "opts": self.opts,
            "form": form,
            "max_size": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES),
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, self.upload_template, context, status=status)

    @admin.action(description="Retry the selected failed imports", permissions=["add"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[ImportBatch]) -> None:
        retried, refused = [], []
        for batch_id in queryset.order_by("id").values_list("id", flat=True):
            try:
                import_batch_retry(batch_id=batch_id)
                retried.append(f"#{batch_id}")
            except ApplicationError as error:
                refused.append(error.message)
        if retried:
            self.message_user(request, f"Queued again: {', '.join(retried)}.", level=messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, level=messages.WARNING)

    @admin.action(description="Delete the selected imports (take them back)", permissions=["add"])
    def delete_selected_imports(self, request: HttpRequest, queryset: QuerySet[ImportBatch]) -> TemplateResponse | None:
        """A confirmation page saying what goes; deleting once confirmed (see analytics.services.import_deletion)."""
        ids = list(queryset.order_by("id").values_list("id", flat=True))
        if request.POST.get("confirm") != "yes":
            previews, refused = [], []
            for batch_id in ids:
                try:
                    previews.append(import_batch_deletion_preview(batch_id=batch_id))
                except ApplicationError as error:
                    refused.append(error.message)
            context = {
                **self.admin_site.each_context(request),
                "title": "Delete imports",
                "opts": self.opts,
                "previews": previews,
                "refused": refused,
                "action": "delete_selected_imports",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/analytics/importbatch/delete_confirmation.html", context)
        for batch_id in ids:
            try:
                deletion = import_batch_delete(batch_id=batch_id, user=request.user)
            except ApplicationError as error:
                self.message_user(request, error.message, level=messages.WARNING)
                continue
            self.message_user(
                request,
                f"Deleted import #{batch_id} ({deletion.file_name}): {deletion.lines:,} lines, "
                f"{deletion.customers:,} customers left with no line; {deletion.lines_kept:,} lines kept "
                "(another import holds them). The segmentation is refitted.",
                level=messages.SUCCESS,
            )
        return None


class ColumnMappingForm(forms.ModelForm):
    class Meta:
        model = ColumnMapping
        fields = ["name", "description", "mapping"]

    def clean_mapping(self) -> Any:
        try:
            return import_inputs.mapping_check(self.cleaned_data["mapping"])
        except ApplicationError as error:
            raise application_form_error(error) from error

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name in import_inputs.shipped_mapping_names():
            raise ValidationError(f"'{name}' is a shipped preset; choose another name.")
        return name


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    form = ColumnMappingForm
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]


class DimensionAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.register(Store, DimensionAdmin)
admin.site.register(Category, DimensionAdmin)
admin.site.register(PaymentMethod, DimensionAdmin)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "gender", "age"]
    list_filter = ["gender"]
    search_fields = ["=external_id", "^external_id"]
    show_full_result_count = False

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False


@admin.register(TransactionLine)
class TransactionLineAdmin(admin.ModelAdmin):
    """Read-only, and cheap on a table of millions: no full counts, no sort beyond the primary key."""

    list_display = [
        "invoice_no",
        "date",
        "customer",
        "store",
        "category",
        "payment_method",
        "quantity",
        "gross_amount",
        "discount_amount",
        "net_amount",
        "cost",
        "is_return",
        "batch_id",
    ]
    list_select_related = ["customer", "store", "category", "payment_method"]
    list_filter = ["is_return", "store", "category"]
    search_fields = ["=invoice_no", "=customer__external_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    sortable_by = ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TransactionLine | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TransactionLine | None = None) -> bool:
        return False
