"""Imports run by the worker (uploads from the web page and bundles from the drop folder):
recording a job, running it with progress, confirming or discarding a held roster, and
filing a dropped bundle in done/ or failed/ with its report."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.consent.importer import consent_import
from schoolsms.contacts.importreport import errors_keep, errors_text
from schoolsms.contacts.models import ImportJob, ImportKind, ImportSource, ImportStatus
from schoolsms.contacts.oneroster.bundle import USERS, is_bundle
from schoolsms.contacts.oneroster.services import roster_import
from schoolsms.contacts.services import TooManyInactivated, contacts_import
from schoolsms.contacts.uploads import upload_keep
from schoolsms.csvimport import CsvImportError, RowError

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5  # seconds between progress writes
# An import still running after this long lost its worker (the largest files take minutes).
ABANDONED_AFTER = dt.timedelta(hours=2)
DONE, FAILED, PROCESSING = "done", "failed", "processing"


def import_job_create(
    *,
    organization: Organization,
    kind: str,
    source: str,
    filename: str,
    path: Path,
    created_by: User | None = None,
) -> ImportJob:
    """Record a job for the worker (tasks.import_job_enqueue queues it)."""
    return ImportJob.objects.create(
        organization=organization,
        kind=kind,
        source=source,
        filename=filename[:255],
        path=str(path),
        created_by=created_by,
    )


def import_job_upload(
    *, organization: Organization, kind: str, upload: UploadedFile, created_by: User | None
) -> ImportJob:
    """Keep an uploaded file (web page or API) for the worker and record its job; a contacts
    file that is a OneRoster bundle (recognised by its content, whatever its name) becomes a
    roster import."""
    path = upload_keep(upload)
    if kind == ImportKind.CONTACTS:
        with path.open("rb") as file:
            if is_bundle(file):
                kind = ImportKind.ONEROSTER
    return import_job_create(
        organization=organization,
        kind=kind,
        source=ImportSource.WEB,
        filename=upload.name or "upload",
        path=path,
        created_by=created_by,
    )


def _count_rows(path: Path) -> int:
    """Lines after the header of the CSV (of users.csv in a bundle): the progress bar's end."""
    with path.open("rb") as f:
        if is_bundle(f):
            try:
                with zipfile.ZipFile(f) as archive:
                    name = next(
                        (n for n in archive.namelist() if n.rsplit("/", 1)[-1] == USERS), None
                    )
                    if name is None:
                        return 0
                    with archive.open(name) as users:
                        return max(
                            0,
                            sum(b.count(b"\n") for b in iter(lambda: users.read(1 << 20), b"")) - 1,
                        )
            except (zipfile.BadZipFile, OSError):
                return 0
        return max(0, sum(b.count(b"\n") for b in iter(lambda: f.read(1 << 20), b"")) - 1)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (the worker's task). Returns None when it was not queued (already run)."""
    started = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.CHECKING, started_at=started, rows_done=0
    ):
        return None
    job = ImportJob.objects.select_related("organization__sender").get(pk=job_id)
    path = Path(job.path)
    changes: dict[str, Any] = {}
    try:
        total = _count_rows(path)
        ImportJob.objects.filter(pk=job.pk).update(rows_total=total)
        summary = _run(job, path, _progress(job.pk, total), _saving(job.pk))
    except CsvImportError as exc:
        shown, kinds = errors_keep(exc.errors)
        changes = dict(
            status=ImportStatus.FAILED, errors=shown, error_count=len(exc.errors), error_kinds=kinds
        )
    except TooManyInactivated as exc:
        changes = dict(status=ImportStatus.CONFIRM, message=str(exc))
    except OSError as exc:
        changes = dict(
            status=ImportStatus.FAILED, message=f"the file cannot be read ({exc.strerror})"
        )
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        changes = dict(
            status=ImportStatus.FAILED,
            message=f"the import stopped on an unexpected error ({type(exc).__name__}); "
            "nothing was imported",
        )
    else:
        changes = dict(status=ImportStatus.DONE, summary=summary)
    if changes["status"] != ImportStatus.CONFIRM:
        changes["finished_at"] = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(**changes)
    job.refresh_from_db()
    if job.status != ImportStatus.CONFIRM:
        _file_away(job)
    return job


def _run(job: ImportJob, path: Path, progress: Any, saving: Any) -> dict[str, Any]:
    org = job.organization
    with path.open("rb") as file:
        if job.kind == ImportKind.CONSENT:
            consent = consent_import(organization=org, file=file, progress=progress, saving=saving)
            return asdict(consent)
        if is_bundle(file):
            summary = roster_import(
                organization=org,
                file=file,
                size=os.fstat(file.fileno()).st_size,
                confirmed=job.confirmed,
                progress=progress,
                saving=saving,
            )
        else:
            if job.source == ImportSource.FOLDER:
                raise CsvImportError(
                    [
                        RowError(
                            0,
                            "",
                            "",
                            "only OneRoster bundles (.zip) are imported from the drop folder",
                        )
                    ]
                )
            summary = contacts_import(organization=org, file=file, progress=progress, saving=saving)
        return asdict(summary)


def _progress(job_id: int, total: int) -> Any:
    last = [0.0]

    def report(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY or (total and done >= total):
            last[0] = now
            # Outside the import's transaction (the rows are checked before it opens), so
            # the page polling the job sees each step.
            ImportJob.objects.filter(pk=job_id).update(rows_done=done, rows_total=max(total, done))

    return report


def _saving(job_id: int) -> Any:
    def report(rows: int) -> None:
        # Every row was checked: the page shows Saving while the one transaction writes them.
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.CHECKING).update(
            status=ImportStatus.SAVING, rows_done=rows, rows_total=rows
        )

    return report


def import_jobs_abandoned_fail(*, older_than: dt.timedelta = ABANDONED_AFTER) -> int:
    """Jobs a dead worker left checking or saving (their write is one transaction, so nothing
    of them was kept) end as failed, so a drop folder's sync is not blocked behind them."""
    cutoff = timezone.now() - older_than
    stale = ImportJob.objects.filter(
        status__in=[ImportStatus.CHECKING, ImportStatus.SAVING], started_at__lt=cutoff
    ).select_related("organization")
    count = 0
    for job in stale:
        if ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            message="the worker stopped during the import; nothing was imported, import the "
            "file again",
        ):
            job.refresh_from_db()
            _file_away(job)
            count += 1
    return count


def import_job_confirm(*, job: ImportJob) -> bool:
    """An admin allows the large inactivation: the held roster is imported as it is."""
    return bool(
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CONFIRM).update(
            status=ImportStatus.QUEUED, confirmed=True, message=""
        )
    )


def import_job_discard(*, job: ImportJob) -> bool:
    """An admin refuses the held roster: nothing is imported; a dropped bundle goes to failed/."""
    moved = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CONFIRM).update(
        status=ImportStatus.DISCARDED, finished_at=timezone.now()
    )
    if moved:
        job.refresh_from_db()
        _file_away(job)
    return bool(moved)


def _file_away(job: ImportJob) -> None:
    """An upload is deleted (it holds families' numbers); a dropped bundle moves to done/ or
    failed/ with `<name>.report.txt` beside it."""
    path = Path(job.path)
    if job.source == ImportSource.WEB:
        path.unlink(missing_ok=True)
        return
    folder = path.parent.parent  # bundles wait in DIR/processing/ while they are imported
    target = folder / (DONE if job.status == ImportStatus.DONE else FAILED)
    target.mkdir(exist_ok=True)
    try:
        path.rename(target / path.name)
        (target / f"{path.name}.report.txt").write_text(import_job_report(job), encoding="utf-8")
    except OSError as exc:
        logger.error("roster sync: cannot file %s in %s: %s", path, target, exc.strerror)


def import_job_report(job: ImportJob) -> str:
    when = timezone.localtime(job.finished_at or timezone.now())
    lines = [
        f"SchoolSMS roster import of {job.filename} for {job.organization.slug}",
        f"Result: {job.get_status_display()} at {when:%Y-%m-%d %H:%M:%S %Z}",
    ]
    if job.status == ImportStatus.DONE:
        lines += [f"{key.replace('_', ' ')}: {value}" for key, value in job.summary.items()]
    if job.message:
        lines.append(job.message)
    if job.error_count:
        lines.append(f"{job.error_count:,} problem(s); nothing was imported:")
        lines.append(errors_text(job.errors, job.error_count, job.error_kinds))
    return "\n".join(lines) + "\n"
