"""The upload size limit is enforced while the body is read, and files stream to disk."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.test import override_settings
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from retail_platform.api.permissions import IsStaff
from retail_platform.uploads import upload_limit_message

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

received: list[object] = []


class UploadProbeApi(APIView):
    permission_classes = [IsStaff]

    def post(self, request: Request) -> Response:
        upload = request.FILES["file"]
        received.append(upload)
        return Response({"size": upload.size, "on_disk": isinstance(upload, TemporaryUploadedFile)})


urlpatterns = [path("api/probe", UploadProbeApi.as_view())]


@pytest.fixture(autouse=True)
def _forget_uploads():
    received.clear()
    yield
    received.clear()


def _post_file(client: APIClient, tmp_path, size: int):
    file_path = tmp_path / "upload.csv"
    file_path.write_bytes(b"x" * size)
    with file_path.open("rb") as handle:
        return client.post("/api/probe", {"file": handle}, format="multipart")


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100_000)
def test_a_file_at_the_limit_is_accepted(staff_client: APIClient, tmp_path) -> None:
    response = _post_file(staff_client, tmp_path, 100_000)
    assert response.status_code == 200
    assert response.json()["size"] == 100_000


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100_000)
def test_a_file_over_the_limit_gets_413_with_a_message(staff_client: APIClient, tmp_path) -> None:
    response = _post_file(staff_client, tmp_path, 100_001)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "upload_too_large"
    assert error["message"] == upload_limit_message(100_000)
    assert "100,000 bytes" in error["message"]
    assert received == []  # the view never ran


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100_000)
def test_a_body_declared_far_over_the_limit_is_refused_before_it_is_read(staff_client: APIClient, tmp_path) -> None:
    response = _post_file(staff_client, tmp_path, 1_000_000)
    assert response.status_code == 413


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100_000_000, FILE_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_files_past_the_memory_threshold_stream_to_a_temporary_file(staff_client: APIClient, tmp_path) -> None:
    response = _post_file(staff_client, tmp_path, 50_000)
    assert response.json() == {"size": 50_000, "on_disk": True}


def test_settings_stream_uploads_to_disk_past_a_few_megabytes() -> None:
    from django.conf import settings

    assert settings.FILE_UPLOAD_HANDLERS[0] == "retail_platform.uploads.UploadSizeLimitHandler"
    assert "django.core.files.uploadhandler.TemporaryFileUploadHandler" in settings.FILE_UPLOAD_HANDLERS
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024 * 1024
    assert settings.IMPORT_MAX_UPLOAD_BYTES > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
