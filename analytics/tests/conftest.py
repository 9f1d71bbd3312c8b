"""Fixtures shared by the analytics tests: a media folder, and importing a file through the real pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analytics.models import ImportBatch
from analytics.services.import_batches import import_batch_create, import_batch_run


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def run_import(media, tmp_path) -> Callable[..., ImportBatch]:
    """Write `content` (text or bytes) to a file and import it synchronously; return the batch."""

    def run(content: str | bytes, *, name: str = "sales.csv", **create_kwargs: Any) -> ImportBatch:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding=create_kwargs.pop("encoding", "utf-8"))
        else:
            path.write_bytes(content)
        batch = import_batch_create(
            path_or_file=path, file_name=name, source=ImportBatch.Source.COMMAND, enqueue=False, **create_kwargs
        )
        return import_batch_run(batch_id=batch.id, queue_refit=False)

    return run
