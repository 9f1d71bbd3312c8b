"""The column-mapping editor (staff): a file's header and first rows, a field chosen for each column,
how to read dates and amounts (proposed from the data by analytics.mapping_editor), a dry run of the
import on the first 20 rows (analytics.services.import_preview), and the mapping saved under a name,
or saved and the file imported with it.

    GET  /imports/mappings/new/                  pick the file: upload one, or one imported before
    POST /imports/mappings/new/ (file or batch)  -> GET ?file=<token> or ?batch=<id>
    GET  ?file=... or ?batch=...                 the editor, filled with the proposals, and its preview
    POST ?file=... or ?batch=... action=preview|save|save_import

An uploaded file is kept under MEDIA_ROOT/mapping-files/<token>/ for the editor (and the import it
may start); files there older than a day are removed when the next one comes.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from analytics import import_inputs
from analytics.forms import MappingEditorForm, MappingSourceForm
from analytics.mapping_editor import Proposal, mapping_propose
from analytics.mapping_sample import SAMPLE_BYTES, FileSample, SampleError, sample_read
from analytics.models import ImportBatch
from analytics.selectors.import_reports import import_batch_list
from analytics.services.column_mappings import column_mapping_save
from analytics.services.import_batches import import_batch_create
from analytics.services.import_csv.reading import delimiter_name
from analytics.services.import_preview import ImportPreview, import_preview_run
from retail_platform.errors import ApplicationError
from retail_platform.pages import StaffRequiredMixin
from retail_platform.uploads import request_body_within_limit

FILES_FOLDER = "mapping-files"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_FILES = datetime.timedelta(days=1)
RECENT_BATCHES = 20
OPTIONS = ("date_format", "decimal_separator", "price_is", "discount_is", "cost_is")


@dataclass(frozen=True)
class EditorFile:
    """The file being mapped: its path on disk, its name, and how it is named in the URL."""

    path: Path
    name: str
    query: dict[str, str]


def _files_root() -> Path:
    return Path(settings.MEDIA_ROOT) / FILES_FOLDER


def _file_keep(upload: Any) -> str:
    """Store an upload for the editor; return its token. Old ones go."""
    root = _files_root()
    cutoff = timezone.now().timestamp() - KEEP_FILES.total_seconds()
    if root.exists():
        for folder in root.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
    token = uuid.uuid4().hex
    folder = root / token
    folder.mkdir(parents=True)
    name = Path(upload.name or "upload.csv").name or "upload.csv"
    with (folder / name).open("wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    return token


def _editor_file(params: QueryDict) -> EditorFile | None:
    token = params.get("file", "")
    if TOKEN.match(token):
        folder = _files_root() / token
        found = sorted(folder.iterdir()) if folder.is_dir() else []
        if found:
            return EditorFile(path=found[0], name=found[0].name, query={"file": token})
    batch_id = params.get("batch", "")
    if batch_id.isdigit():
        batch = ImportBatch.objects.filter(pk=int(batch_id)).exclude(file="").first()
        if batch is not None and batch.file.storage.exists(batch.file.name):
            return EditorFile(path=Path(batch.file.path), name=batch.file_name, query={"batch": batch_id})
    return None


def _sample(chosen: EditorFile) -> FileSample:
    with chosen.path.open("rb") as source:
        return sample_read(source.read(SAMPLE_BYTES), file_name=chosen.name)


def _initial(proposal: Proposal) -> dict[str, Any]:
    initial: dict[str, Any] = {f"column_{position}": name for position, name in enumerate(proposal.fields)}
    for option in (*OPTIONS, "return_invoice_prefix"):
        initial[option] = getattr(proposal, option)
    return initial


def _recent_batches() -> list[tuple[int, str]]:
    batches = import_batch_list().exclude(file="")[:RECENT_BATCHES]
    return [(batch.pk, f"#{batch.pk} {batch.file_name} ({batch.created_at:%d %b %Y})") for batch in batches]


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), once the body is read
class MappingEditorView(StaffRequiredMixin, View):
    template_name = "analytics/mapping_editor.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        chosen = _editor_file(request.GET)
        if chosen is None:
            return self._source_page(request, MappingSourceForm(batches=_recent_batches()))
        try:
            sample = _sample(chosen)
        except SampleError as error:
            source_form = MappingSourceForm(batches=_recent_batches())
            source_form.cleaned_data = {}
            source_form.add_error("file", error.args[0])
            return self._source_page(request, source_form, status=400)
        proposal = mapping_propose(sample)
        form = MappingEditorForm(_initial_data(proposal), header=sample.header)
        return self._editor_page(request, chosen, sample, proposal, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request_body_within_limit(request):
            source_form = MappingSourceForm(batches=_recent_batches())
            source_form.cleaned_data = {}
            source_form.add_error("file", import_inputs.upload_too_large_message())
            return self._source_page(request, source_form, status=413)
        return csrf_protect(self._post)(request)

    def _post(self, request: HttpRequest) -> HttpResponse:
        chosen = _editor_file(request.GET)
        if chosen is None:
            source_form = MappingSourceForm(request.POST, request.FILES, batches=_recent_batches())
            if not source_form.is_valid():
                return self._source_page(request, source_form, status=400)
            if source_form.cleaned_data["file"] is not None:
                query = f"file={_file_keep(source_form.cleaned_data['file'])}"
            else:
                query = f"batch={source_form.cleaned_data['batch']}"
            return redirect(f"{reverse('analytics:mapping-editor')}?{query}")
        try:
            sample = _sample(chosen)
        except SampleError as error:
            messages.error(request, error.args[0])
            return redirect("analytics:mapping-editor")
        proposal = mapping_propose(sample)
        form = MappingEditorForm(request.POST, header=sample.header)
        action = request.POST.get("action", "preview")
        if form.is_valid() and action in ("save", "save_import"):
            if not form.cleaned_data["name"]:
                form.add_error("name", "Give the mapping a name to save it under.")
            else:
                return self._save(request, chosen, form, sample, proposal, imports=action == "save_import")
        return self._editor_page(request, chosen, sample, proposal, form, status=200 if form.is_valid() else 400)

    def _save(
        self,
        request: HttpRequest,
        chosen: EditorFile,
        form: MappingEditorForm,
        sample: FileSample,
        proposal: Proposal,
        *,
        imports: bool,
    ) -> HttpResponse:
        data = form.cleaned_data
        try:
            with transaction.atomic():
                saved = column_mapping_save(name=data["name"], mapping=data["mapping"], description=data["description"])
                batch = (
                    import_batch_create(
                        path_or_file=chosen.path,
                        file_name=chosen.name,
                        source=ImportBatch.Source.WEB,
                        uploaded_by=request.user,
                        mapping_name=saved.name,
                        skip_invalid=data["skip_invalid"],
                    )
                    if imports
                    else None
                )
        except ApplicationError as error:
            form.add_error("name" if error.extra.get("name") else None, error.message)
            return self._editor_page(request, chosen, sample, proposal, form, status=error.status)
        if batch is None:
            messages.success(request, f"Mapping '{saved.name}' saved: choose it on this page when you import a file.")
            return redirect("analytics:imports")
        messages.success(request, f"Mapping '{saved.name}' saved; import #{batch.pk} of {batch.file_name} is queued.")
        return redirect(f"{reverse('analytics:imports')}#batch-{batch.pk}")

    def _source_page(self, request: HttpRequest, form: MappingSourceForm, *, status: int = 200) -> HttpResponse:
        context = {"source_form": form, "max_upload_bytes": settings.IMPORT_MAX_UPLOAD_BYTES}
        return render(request, self.template_name, context, status=status)

    def _editor_page(
        self,
        request: HttpRequest,
        chosen: EditorFile,
        sample: FileSample,
        proposal: Proposal,
        form: MappingEditorForm,
        *,
        status: int = 200,
    ) -> HttpResponse:
        preview: ImportPreview | None = None
        preview_error = ""
        if form.is_valid():
            try:
                preview = import_preview_run(sample=sample, spec=form.cleaned_data["spec"])
            except ApplicationError as error:
                preview_error = error.message
        columns = [
            {
                "field": bound,
                "values": [row[position] for row in sample.shown_rows[:3] if position < len(row)],
                "proposed": proposal.fields[position],
            }
            for position, bound in enumerate(form.column_fields())
        ]
        context = {
            "editor_file": chosen,
            "query": "&".join(f"{key}={value}" for key, value in chosen.query.items()),
            "sample": sample,
            "delimiter_name": delimiter_name(sample.delimiter),
            "proposal": proposal,
            "form": form,
            "columns": columns,
            "options": [form[name] for name in OPTIONS],
            "preview": preview,
            "preview_error": preview_error,
            "mapping_json": json.dumps(form.cleaned_data["mapping"], indent=2) if form.is_valid() else "",
        }
        return render(request, self.template_name, context, status=status)


def _initial_data(proposal: Proposal) -> QueryDict:
    """The proposals as a bound form's data: the page opens with its preview already run."""
    data = QueryDict(mutable=True)
    for key, value in _initial(proposal).items():
        data[key] = value or ""
    return data
