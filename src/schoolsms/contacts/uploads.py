"""Upload limits for import files: refused by their declared size before the body is read, and
cut off as soon as more arrives than the limit (SCHOOLSMS_MAX_UPLOAD_MB)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest


def upload_limit_bytes() -> int:
    return int(settings.SCHOOLSMS_MAX_UPLOAD_MB) * 1024 * 1024


def upload_too_large_message() -> str:
    return (
        f"The file is larger than the {settings.SCHOOLSMS_MAX_UPLOAD_MB} MB upload limit, so it "
        "was not read. Split it, or import it on the server with the command "
        "schoolsms contacts import."
    )


def declared_too_large(request: HttpRequest) -> bool:
    """The request says its body is bigger than the limit allows (read before the body)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > upload_limit_bytes()


class LimitedUploadHandler(FileUploadHandler):
    """Stops reading an upload the moment it passes the limit (a body sent without a length,
    or one that lied about it); `exceeded` tells the view why the file is missing."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > upload_limit_bytes():
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None  # the next handlers keep the file


def limit_uploads(request: HttpRequest) -> LimitedUploadHandler:
    """Put the limit in front of Django's upload handlers (before anything reads the body)."""
    handler = LimitedUploadHandler(request)
    request.upload_handlers.insert(0, handler)
    return handler


def upload_keep(upload: UploadedFile) -> Path:
    """Move the uploaded file where the worker reads it (var/imports/); returns the path."""
    folder = Path(settings.IMPORTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path
