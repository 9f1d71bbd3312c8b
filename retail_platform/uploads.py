"""The upload size limit, enforced while the request body is read.

Django caps no file size by itself: FILE_UPLOAD_MAX_MEMORY_SIZE only chooses between memory and a
temporary file. This handler, first in FILE_UPLOAD_HANDLERS, refuses a body whose declared length is
over IMPORT_MAX_UPLOAD_BYTES before reading it, and stops a file as soon as it passes the limit, so
an oversized upload never fills the disk. The API answers 413 with the error shape; a reverse proxy
in front should carry the same limit (nginx `client_max_body_size`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from rest_framework import status
from rest_framework.exceptions import APIException

# Room for the multipart boundaries, headers and small form fields around the file itself.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024


def upload_limit_bytes() -> int:
    return int(settings.IMPORT_MAX_UPLOAD_BYTES)


def upload_limit_message(limit: int | None = None) -> str:
    limit = upload_limit_bytes() if limit is None else limit
    return (
        f"The file is larger than the upload limit of {limit:,} bytes ({limit / 1024 / 1024:.0f} MB). "
        "Split it into smaller files, or ask an administrator to raise IMPORT_MAX_UPLOAD_BYTES."
    )


class UploadTooLarge(APIException, SuspiciousOperation):
    """413 in the API; Django's own views treat it as a bad request (400)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"

    def __init__(self) -> None:
        super().__init__(detail=upload_limit_message(), code=self.default_code)


class UploadSizeLimitHandler(FileUploadHandler):
    def handle_raw_input(
        self, input_data: Any, META: dict[str, Any], content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        if content_length > upload_limit_bytes() + MULTIPART_ALLOWANCE_BYTES:
            raise UploadTooLarge()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > upload_limit_bytes():
            raise UploadTooLarge()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def request_body_within_limit(request: HttpRequest) -> bool:
    """Read a page's form body now, through the upload handlers; False when it is over the limit.

    A page that takes uploads reads the body in its view rather than in the CSRF middleware (and
    checks the CSRF token itself afterwards), so an upload over the size limit, refused while it
    streams in, becomes a form error instead of a bare 400.
    """
    try:
        request.POST  # noqa: B018 - parse the body now, with the project's upload handlers
    except (SuspiciousOperation, APIException) as error:
        if getattr(error, "status_code", None) != 413 and not isinstance(error, RequestDataTooBig):
            raise
        return False
    return True
