"""API: the contacts import (a small file answered at once, a large one run by the worker) and
an import's progress and result."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from schoolsms.accounts.access import ADMIN, UserRequest
from schoolsms.accounts.api import api_membership, api_memberships
from schoolsms.apiutil import DbId
from schoolsms.contacts import selectors
from schoolsms.contacts.jobs import import_job_run, import_job_upload
from schoolsms.contacts.models import ImportJob, ImportKind, ImportStatus
from schoolsms.contacts.tasks import import_job_enqueue

router = Router(tags=["contacts"])

# Up to this size (about 10,000 rows) a file is imported while the caller waits: seconds, well
# inside the web server's time limit. A bigger one is imported by the worker.
AT_ONCE_BYTES = 1024 * 1024


class RowErrorOut(Schema):
    line: int
    field: str
    value: str
    message: str
    file: str = ""  # the file of a OneRoster bundle (users.csv); empty for a CSV


class ImportErrorsOut(Schema):
    detail: str
    error_count: int  # every problem found; `errors` lists the first 200
    errors: list[RowErrorOut]


class ImportSummaryOut(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int
    numbers: int
    pending_created: int


class DetailOut(Schema):
    detail: str


class ImportJobOut(Schema):
    id: int
    url: str  # this import's progress and result (GET)
    organization: str
    kind: str  # contacts / oneroster / consent
    filename: str
    status: str  # queued, checking, saving, then done / failed (or confirm, then discarded)
    status_label: str
    rows_total: int  # about how many rows the file has (0 until the worker counted them)
    rows_done: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    # Once done: counts by name (rows, created, updated, unchanged, numbers, pending_created,
    # and for a roster inactivated, reactivated, links_added, links_removed).
    summary: dict[str, int] | None
    message: str  # why it stopped or waits, in one sentence
    error_count: int
    errors: list[RowErrorOut]  # the first 200


def _errors(job: ImportJob) -> list[RowErrorOut]:
    return [RowErrorOut(**e) for e in job.errors]


def _job(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        id=job.pk,
        url=reverse("api:contacts-import-job", kwargs={"job_id": job.pk}),
        organization=job.organization.slug,
        kind=job.kind,
        filename=job.filename,
        status=job.status,
        status_label=job.get_status_display(),
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        created_at=job.created_at,
        finished_at=job.finished_at,
        summary=job.summary if job.status == ImportStatus.DONE else None,
        message=job.message,
        error_count=job.error_count,
        errors=_errors(job),
    )


def _prefers_async(request: UserRequest) -> bool:
    """`Prefer: respond-async` (RFC 7240): the caller wants the worker even for a small file."""
    prefer = request.headers.get("Prefer", "")
    return any(p.split(";")[0].strip().lower() == "respond-async" for p in prefer.split(","))


@router.post(
    "/import",
    response={
        200: ImportSummaryOut,
        202: ImportJobOut,
        413: DetailOut,
        422: ImportErrorsOut,
    },
    summary="Import contacts from CSV or a OneRoster bundle (admin)",
)
def contacts_import_upload(
    request: UserRequest,
    response: HttpResponse,
    file: File[UploadedFile],
    org: str | None = None,
) -> Status[Any]:
    """The same file format and all-or-nothing rule as `schoolsms contacts import`.

    A CSV up to 1 MB is imported at once: 200 with the summary, or on any bad row 422 with
    `{"detail", "error_count", "errors": [{"line", "field", "value", "message"}]}` (the first
    200) and nothing changes. A bigger file, a OneRoster bundle, or any file sent with
    `Prefer: respond-async` is imported by the worker: 202 with the import, whose `url` (also
    the `Location` header) answers its progress, then its summary or errors. A file over
    `SCHOOLSMS_MAX_UPLOAD_MB` is refused with 413 before it is read."""
    membership = api_membership(request, org, ADMIN)
    job = import_job_upload(
        organization=membership.organization,
        kind=ImportKind.CONTACTS,
        upload=file,
        created_by=request.user,
    )
    small = job.kind == ImportKind.CONTACTS and (file.size or 0) <= AT_ONCE_BYTES
    if small and not _prefers_async(request):
        done = import_job_run(job_id=job.pk)
        if done is not None:
            return _answer_at_once(done)
    import_job_enqueue(job=job)
    out = _job(job)
    response["Location"] = out.url
    return Status(202, out)


def _answer_at_once(job: ImportJob) -> Status[Any]:
    if job.status == ImportStatus.DONE:
        return Status(200, ImportSummaryOut(**job.summary))
    if job.error_count:
        detail = f"nothing was imported: {job.error_count} problem(s) in the file"
    else:
        detail = f"nothing was imported: {job.message}"
    return Status(
        422, ImportErrorsOut(detail=detail, error_count=job.error_count, errors=_errors(job))
    )


@router.get(
    "/imports/{int:job_id}",
    response=ImportJobOut,
    url_name="contacts-import-job",
    summary="An import's progress, then its summary or errors (admin)",
)
def import_job_detail(request: UserRequest, job_id: DbId) -> ImportJobOut:
    """Any import of an organization the caller is an admin of: from this API, the web page or
    the roster drop folder. Ask again until `status` is no longer queued, checking or saving."""
    org_ids = api_memberships(request).filter(role__in=ADMIN).values("organization_id")
    job = selectors.import_job_in(organization_ids=org_ids, pk=job_id)
    if job is None:
        raise HttpError(404, "no such import")
    return _job(job)
