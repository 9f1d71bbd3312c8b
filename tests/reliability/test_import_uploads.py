"""Uploads to /api/imports: the size limit answers 413 with a message and stores nothing, and a
large file streams to a temporary file on disk instead of memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from rest_framework.test import APIClient

from analytics.models import ImportBatch
from analytics.services import import_batches
from tests.reliability.data import mall_file_text

pytestmark = pytest.mark.django_db


def _upload(client: APIClient, path: Path) -> Any:
    with path.open("rb") as handle:
        return client.post("/api/imports", {"file": handle, "mapping": "mall"}, format="multipart")


def _stored_files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text(mall_file_text(store_names=("Kanyon", "Metrocity")), encoding="utf-8")
    return path


def test_an_upload_over_the_limit_gets_413_with_a_message_and_nothing_is_stored(
    staff_client: APIClient, csv_file: Path, media_root: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = csv_file.stat().st_size - 1

    response = _upload(staff_client, csv_file)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["status"] == 413
    assert "limit" in error["message"]
    assert f"{settings.IMPORT_MAX_UPLOAD_BYTES:,}" in error["message"]
    assert not ImportBatch.objects.exists()
    assert _stored_files(media_root) == []


def test_an_upload_within_the_limit_is_accepted(staff_client: APIClient, csv_file: Path, media_root: Path) -> None:
    response = _upload(staff_client, csv_file)  # queued on commit, which a test never reaches
    assert response.status_code == 202
    assert ImportBatch.objects.get().size_bytes == csv_file.stat().st_size


def test_a_large_upload_streams_to_disk_not_memory(staff_client: APIClient, tmp_path: Path, media_root: Path) -> None:
    """Past FILE_UPLOAD_MAX_MEMORY_SIZE the upload handlers write the file to a temporary file."""
    header, body = mall_file_text(store_names=("Kanyon",)).split("\n", 1)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        while handle.tell() < settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 100_000:
            handle.write(body)
    received: list[type] = []
    real_create = import_batches.import_batch_create

    def spy(**kwargs: Any) -> ImportBatch:
        received.append(type(kwargs["path_or_file"]))
        return real_create(**{**kwargs, "enqueue": False})

    with mock.patch.object(import_batches, "import_batch_create", side_effect=spy):
        response = _upload(staff_client, path)

    assert response.status_code == 202, response.content[:300]
    assert received == [TemporaryUploadedFile]
