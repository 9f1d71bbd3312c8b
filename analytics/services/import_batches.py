"""Import batches: a file comes in (admin, API, command, inbox), is stored, and is imported once.

`import_batch_create` stores the upload and queues it; `import_batch_run` is the pipeline (see
`analytics.services.import_csv.pipeline` for its stages). The whole load is one transaction under
the data-write lock: a failure, or a worker killed mid-import, leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from analytics.mappings import PRESETS, ColumnMappingSpec, MappingError, mapping_parse
from analytics.models import ColumnMapping, ImportBatch
from analytics.services.import_csv.pipeline import ImportOutcome, describe, import_file_run
from analytics.services.import_csv.progress import ProgressWriter
from analytics.services.import_csv.reading import ImportFailure
from analytics.warehouse import warehouse_batch_add
from retail_platform.errors import ApplicationError
from retail_platform.locks import data_write_lock

logger = logging.getLogger(__name__)

IMPORT_TASK = "analytics.tasks.import_batch_run_task"
REFIT_TASK = "segmentation.tasks.segmentation_refit_task"
HASH_CHUNK_BYTES = 1024 * 1024
ENDED = (ImportBatch.Status.SUCCEEDED, ImportBatch.Status.FAILED)
# How to have the valid rows of a file imported, in the words of the way the file came in.
SKIP_INVALID_HINTS = {
    ImportBatch.Source.ADMIN: "tick 'Skip invalid rows' and import it again",
    ImportBatch.Source.COMMAND: "import it with --skip-invalid",
    ImportBatch.Source.API: "send it again with skip_invalid=true",
    ImportBatch.Source.INBOX: "import it from the Imports page or the admin with 'Skip invalid rows' ticked",
    ImportBatch.Source.WEB: "tick 'Skip invalid rows' and upload it again",
}


def mapping_names() -> list[str]:
    """Every preset name an import can use: the shipped ones, then the saved ones."""
    return [*PRESETS, *ColumnMapping.objects.exclude(name__in=list(PRESETS)).values_list("name", flat=True)]


def mapping_resolve(*, mapping_name: str, mapping: dict[str, Any] | None = None) -> ColumnMappingSpec:
    """The mapping an import uses: `mapping` when given, else the named preset (shipped or saved)."""
    try:
        if mapping is not None:
            return mapping_parse(mapping)
        if mapping_name in PRESETS:
            return mapping_parse(PRESETS[mapping_name])
        saved = ColumnMapping.objects.filter(name=mapping_name).first()
        if saved is None:
            raise ApplicationError(
                f"Unknown column mapping '{mapping_name}'. Valid presets: {', '.join(mapping_names())}.",
                {"mapping": mapping_name, "valid": mapping_names()},
            )
        return mapping_parse(saved.mapping)
    except MappingError as error:
        label = "The mapping given" if mapping is not None else f"The mapping '{mapping_name}'"
        raise ApplicationError(f"{label} is not valid: {error}", {"mapping": mapping_name}) from error


def _size_check(size: int, file_name: str) -> None:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if size > limit:
        raise ApplicationError(
            f"{file_name} is {size / 1_048_576:,.1f} MB; files up to {limit / 1_048_576:,.1f} MB can be imported.",
            {"file_name": file_name, "size_bytes": size, "limit_bytes": limit},
            status=413,
        )


def _stream(path_or_file: Any) -> tuple[IO[bytes], bool]:
    """An open binary stream positioned at the start, and whether we opened it (and must close it)."""
    if isinstance(path_or_file, str | os.PathLike):
        return open(path_or_file, "rb"), True
    stream = path_or_file
    if hasattr(stream, "seek"):
        stream.seek(0)
    return stream, False


@transaction.atomic
def import_batch_create(
    *,
    path_or_file: Any,
    file_name: str,
    source: str,
    uploaded_by: Any = None,
    mapping_name: str = "mall",
    mapping: dict[str, Any] | None = None,
    skip_invalid: bool = False,
    enqueue: bool = True,
) -> ImportBatch:
    """Store the file under MEDIA_ROOT, record its SHA-256 and size, and queue the import.

    Raises ApplicationError (status 413) for a file over IMPORT_MAX_UPLOAD_BYTES, and (400) for an
    unknown or invalid mapping. With `enqueue`, the import task is queued when the transaction commits.
    """
    file_name = Path(file_name).name or "upload.csv"
    if isinstance(path_or_file, str | os.PathLike):
        _size_check(os.path.getsize(path_or_file), file_name)
    elif getattr(path_or_file, "size", None) is not None:
        _size_check(int(path_or_file.size), file_name)
    mapping_resolve(mapping_name=mapping_name, mapping=mapping)

    stream, opened = _stream(path_or_file)
    try:
        if not (hasattr(stream, "seekable") and stream.seekable()):
            spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the stream below)
            shutil.copyfileobj(stream, spool, HASH_CHUNK_BYTES)
            if opened:
                stream.close()
            stream, opened = spool, True
        stream.seek(0)
        digest = hashlib.sha256()
        size = 0
        while chunk := stream.read(HASH_CHUNK_BYTES):
            size += len(chunk)
            digest.update(chunk)
        _size_check(size, file_name)
        stream.seek(0)
        batch = ImportBatch(
            file_name=file_name[:255],
            sha256=digest.hexdigest(),
            size_bytes=size,
            source=source,
            uploaded_by=uploaded_by,
            mapping_name=mapping_name,
            mapping=mapping,
            skip_invalid=skip_invalid,
            status=ImportBatch.Status.QUEUED,
            queued_at=timezone.now(),
        )
        batch.file.save(file_name, File(stream, name=file_name), save=False)
    finally:
        if opened:
            stream.close()
    batch.save()
    if enqueue:
        from analytics.services.import_retry import import_batch_enqueue

        import_batch_enqueue(batch_id=batch.id)
    return batch


def _opener(batch: ImportBatch) -> Callable[[], IO[bytes]]:
    def open_file() -> IO[bytes]:
        return batch.file.storage.open(batch.file.name, "rb")

    return open_file


def import_batch_run(*, batch_id: int, queue_refit: bool = True) -> ImportBatch:
    """Import a queued batch: the whole pipeline, in one transaction, at most once.

    A batch already succeeded or failed is returned as it is (the queue delivers at least once). The
    attempt is counted first, in its own commit; past IMPORT_MAX_ATTEMPTS the batch fails without
    running. On success the read model takes the batch's lines in, inside the transaction and, after commit, the
    segmentation refit is queued (unless `queue_refit` is False: the caller runs it itself).
    """
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise ApplicationError(f"Import batch {batch_id} does not exist.", {"batch_id": batch_id}, status=404)
    if batch.status in ENDED:
        return batch
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch_id).update(
            attempts=F("attempts") + 1,
            status=ImportBatch.Status.RUNNING,
            started_at=timezone.now(),
            stage="read",
            progress=0,
        )
    batch.refresh_from_db()
    if batch.attempts > settings.IMPORT_MAX_ATTEMPTS:
        return _batch_fail(
            batch,
            f"{batch.file_name}: gave up after {batch.attempts - 1} interrupted attempts "
            f"(the limit is {settings.IMPORT_MAX_ATTEMPTS}). Nothing was imported.",
        )

    progress = ProgressWriter(batch.id)
    try:
        return _batch_import(batch, progress=progress, queue_refit=queue_refit)
    except ImportFailure as failure:
        return _batch_fail(
            batch,
            failure.message,
            errors=failure.errors,
            error_count=failure.error_count,
            rows_read=failure.rows_read,
            warnings=failure.warnings,
        )
    except ApplicationError as error:
        return _batch_fail(batch, f"{batch.file_name}: {error.message}")
    except Exception as error:
        logger.exception("Import batch %s failed unexpectedly", batch.id)
        return _batch_fail(batch, f"{batch.file_name}: the import failed ({type(error).__name__}: {error}).")
    finally:
        progress.close()


def _batch_import(batch: ImportBatch, *, progress: ProgressWriter, queue_refit: bool) -> ImportBatch:
    if not batch.file or not batch.file.storage.exists(batch.file.name):
        raise ImportFailure(f"{batch.file_name}: the stored file is missing; upload it again.")
    spec = mapping_resolve(mapping_name=batch.mapping_name, mapping=batch.mapping)
    label = "given at import" if batch.mapping is not None else batch.mapping_name
    with transaction.atomic():
        data_write_lock()
        # A second delivery of the task may have waited on the lock while the first one finished.
        ended = ImportBatch.objects.filter(pk=batch.pk, status__in=ENDED).first()
        if ended is not None:
            return ended
        outcome: ImportOutcome = import_file_run(
            batch_id=batch.id,
            file_name=batch.file_name,
            opener=_opener(batch),
            size=batch.file.size,
            spec=spec,
            mapping_label=label,
            skip_invalid=batch.skip_invalid,
            skip_invalid_hint=SKIP_INVALID_HINTS[ImportBatch.Source(batch.source)],
            progress=progress,
        )
        started = time.perf_counter()
        progress.update("aggregates", 0)
        change = warehouse_batch_add(batch_id=batch.id)
        outcome.timings["aggregates"] = time.perf_counter() - started
        # Where the aggregates stage went, for whoever tunes the read model (the batch keeps the stages).
        logger.info("Import batch %s: the read model's steps took %s s", batch.id, json.dumps(change.timings))
        progress.close()  # no progress writes past this point: the batch row is ours until commit
        batch.status = ImportBatch.Status.SUCCEEDED
        batch.stage = ""
        batch.progress = 100
        batch.rows_read = outcome.rows_read
        batch.imported = outcome.imported
        batch.rejected = outcome.rejected
        batch.duplicates = outcome.duplicates
        batch.errors = outcome.errors
        batch.error_count = outcome.error_count
        batch.warnings = outcome.warnings
        batch.timings = {name: round(seconds, 3) for name, seconds in outcome.timings.items()}
        batch.load_path = outcome.path
        batch.first_date, batch.last_date = change.first_date, change.last_date  # recorded by the read model
        batch.message = describe(outcome, batch.file_name)
        batch.finished_at = timezone.now()
        batch.save()
        if queue_refit:
            transaction.on_commit(lambda: refit_enqueue(batch_id=batch.id, after="import"))
    return batch


def refit_enqueue(*, batch_id: int, after: str) -> None:
    """Queue the segmentation refit that follows a change to the data (an import, a deletion)."""
    from django_q.tasks import async_task

    try:
        async_task(REFIT_TASK, batch_id, task_name=f"refit-after-{after}-{batch_id}", group="refits")
    except Exception:
        # The change has committed; a refit can be queued again from the admin.
        logger.exception("Could not queue the segmentation refit after the %s of import batch %s", after, batch_id)


def _batch_fail(
    batch: ImportBatch,
    message: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    error_count: int | None = None,
    rows_read: int = 0,
    warnings: list[str] | None = None,
) -> ImportBatch:
    batch.status = ImportBatch.Status.FAILED
    batch.stage = ""
    batch.progress = 0
    batch.message = message
    batch.errors = errors or []
    batch.error_count = error_count if error_count is not None else len(batch.errors)
    batch.warnings = warnings or []
    # Nothing was imported: every row read is rejected, so the counts still add up.
    batch.rows_read = rows_read
    batch.imported = 0
    batch.duplicates = 0
    batch.rejected = rows_read
    batch.finished_at = timezone.now()
    batch.save()
    return batch
