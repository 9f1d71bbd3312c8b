"""The import inbox: daily exports dropped into a folder are imported once, without anyone uploading.

    IMPORT_INBOX_DIR/            new files land here (hidden and *.part / *.tmp files are ignored)
        processing/              a file is claimed by moving it here first: a rename is atomic, so
                                 two workers never take the same file
        done/  failed/           where it ends, as `batch-<id>--<name>`; a failed one gets a
                                 `<that name>.reason.txt` note with the batch's message

The scan runs each import in its own process (the scheduled task), through the one pipeline
(`import_batch_create` + `import_batch_run`). A scan killed mid-import leaves its file in
processing/: a later scan moves it on once the batch has ended (the stuck-batch sweep fails it),
and puts a file claimed by a scan that died before its batch existed back into the inbox.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from analytics.models import ImportBatch
from analytics.services.import_sweep import import_stuck_after
from retail_platform.errors import ApplicationError

logger = logging.getLogger(__name__)

PROCESSING = "processing"
DONE = "done"
FAILED = "failed"
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".reason.txt")
# A file modified more recently than this may still be being written: leave it for the next scan.
SETTLE_SECONDS = 5.0

_CLAIM = re.compile(r"^claim-(?P<at>\d+)-[0-9a-f]{8}--(?P<name>.+)$")
_BATCH = re.compile(r"^batch-(?P<id>\d+)--(?P<name>.+)$")
_ENDED = (ImportBatch.Status.SUCCEEDED, ImportBatch.Status.FAILED)


@dataclass(frozen=True)
class InboxImport:
    file_name: str
    batch_id: int | None
    status: str  # the batch's status, or "rejected" when no batch could be made of the file
    moved_to: Path | None


def inbox_dirs(inbox: Path | None = None) -> dict[str, Path]:
    root = Path(inbox or settings.IMPORT_INBOX_DIR)
    dirs = {"inbox": root, PROCESSING: root / PROCESSING, DONE: root / DONE, FAILED: root / FAILED}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return dirs


def import_inbox_scan(
    *,
    inbox: Path | None = None,
    mapping_name: str = "mall",
    settle_seconds: float = SETTLE_SECONDS,
) -> list[InboxImport]:
    """Import every new file in the inbox once, oldest first; move each to done/ or failed/.

    Returns what happened to each file this scan took (files recovered from an earlier, killed scan
    included). Never raises for a bad file: the reason goes to the batch and the failed/ note.
    """
    dirs = inbox_dirs(inbox)
    results = _recover_abandoned(dirs)
    for path in _new_files(dirs["inbox"], settle_seconds=settle_seconds):
        claimed = _claim(path, dirs[PROCESSING])
        if claimed is not None:
            results.append(_import_claimed(claimed, original_name=path.name, dirs=dirs, mapping_name=mapping_name))
    return results


def _new_files(inbox: Path, *, settle_seconds: float) -> list[Path]:
    now = time.time()
    files = []
    for path in inbox.iterdir():
        if path.name.startswith(".") or path.name.lower().endswith(IGNORED_SUFFIXES):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # taken by another scan meanwhile
            continue
        if path.is_file() and now - stat.st_mtime >= settle_seconds:
            files.append((stat.st_mtime, path.name, path))
    return [path for _, _, path in sorted(files)]


def _claim(path: Path, processing: Path) -> Path | None:
    """Move the file into processing/ under a unique name; None when another worker got there first."""
    claimed = processing / f"claim-{int(time.time())}-{uuid.uuid4().hex[:8]}--{path.name}"
    try:
        path.rename(claimed)
    except FileNotFoundError:
        return None
    return claimed


def _import_claimed(claimed: Path, *, original_name: str, dirs: dict[str, Path], mapping_name: str) -> InboxImport:
    from analytics.services.import_batches import import_batch_create, import_batch_run

    try:
        batch = import_batch_create(
            path_or_file=claimed,
            file_name=original_name,
            source=ImportBatch.Source.INBOX,
            mapping_name=mapping_name,
            enqueue=False,
        )
    except ApplicationError as error:
        logger.warning("Inbox file %s was rejected before import: %s", original_name, error.message)
        moved = _move(claimed, dirs[FAILED] / f"rejected-{uuid.uuid4().hex[:8]}--{original_name}", note=error.message)
        return InboxImport(file_name=original_name, batch_id=None, status="rejected", moved_to=moved)

    # From here on the batch id is in the name, so a later scan can finish the job if this one dies.
    processing = claimed.with_name(f"batch-{batch.id}--{original_name}")
    claimed.rename(processing)
    try:
        batch = import_batch_run(batch_id=batch.id)
    except Exception:
        # The pipeline records its own failures; this is a bug or a lost database. Log it, keep the
        # file in processing/ for the recovery pass once the batch has ended (the sweep ends it).
        logger.exception("Inbox import of %s (batch %s) raised", original_name, batch.id)
        batch.refresh_from_db()
        if batch.status not in _ENDED:
            return InboxImport(file_name=original_name, batch_id=batch.id, status=batch.status, moved_to=None)
    return _finish(processing, batch, dirs=dirs)


def _finish(processing: Path, batch: ImportBatch, *, dirs: dict[str, Path]) -> InboxImport:
    succeeded = batch.status == ImportBatch.Status.SUCCEEDED
    target = dirs[DONE if succeeded else FAILED] / processing.name
    moved = _move(processing, target, note=None if succeeded else (batch.message or "The import failed."))
    return InboxImport(file_name=batch.file_name, batch_id=batch.id, status=batch.status, moved_to=moved)


def _move(source: Path, target: Path, *, note: str | None) -> Path | None:
    try:
        source.rename(target)
    except FileNotFoundError:  # another scan's recovery pass moved it already
        return None
    if note is not None:
        target.with_name(target.name + ".reason.txt").write_text(note + "\n", encoding="utf-8")
    return target


def _recover_abandoned(dirs: dict[str, Path]) -> list[InboxImport]:
    """Finish what a killed scan left in processing/."""
    results = []
    stale_before = time.time() - import_stuck_after().total_seconds()
    for path in sorted(dirs[PROCESSING].iterdir()):
        if match := _BATCH.match(path.name):
            batch = ImportBatch.objects.filter(pk=int(match["id"]), status__in=_ENDED).first()
            if batch is not None:  # still running (here or in another worker): leave it
                results.append(_finish(path, batch, dirs=dirs))
        elif (match := _CLAIM.match(path.name)) and int(match["at"]) < stale_before:
            # Claimed by a scan that died before its batch existed: back into the inbox. Importing
            # it again is safe, the pipeline counts lines it already holds as duplicates.
            target = dirs["inbox"] / match["name"]
            if not target.exists():
                _move(path, target, note=None)
    return results
