"""The Imports page: the latest batches with their progress, the upload form and the status poll."""

from __future__ import annotations

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

from analytics import import_inputs
from analytics.forms import ImportUploadForm
from analytics.import_progress import ImportProgress, import_progress
from analytics.models import ImportBatch
from analytics.selectors.import_reports import import_batch_list
from analytics.services.import_batches import import_batch_create
from retail_platform import roles
from retail_platform.errors import ApplicationError
from retail_platform.formatting import thousands
from retail_platform.pages import ViewerRequiredMixin
from retail_platform.uploads import request_body_within_limit

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
