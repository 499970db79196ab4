"""The nightly roster sync: an organization's drop folder, and the worker's check that claims
each new bundle there (oldest first, once) for an import job."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from schoolsms.accounts.models import Organization
from schoolsms.contacts.jobs import PROCESSING, import_job_create, import_jobs_abandoned_fail
from schoolsms.contacts.models import (
    ImportJob,
    ImportKind,
    ImportSource,
    ImportStatus,
    RosterSettings,
)
from schoolsms.contacts.tasks import import_job_enqueue

logger = logging.getLogger(__name__)
_LANGUAGE_COLUMN = re.compile(r"^metadata\.[A-Za-z0-9_.-]{1,90}$")
# Names SFTP clients and editors give files still being written, and our own reports.
_NOT_A_BUNDLE = re.compile(r"^\.|\.(part|filepart|tmp|partial|report\.txt)$", re.IGNORECASE)
_UNDER_WAY = (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.SAVING, ImportStatus.CONFIRM)


class RosterSettingsError(ValueError):
    """A roster setting that cannot be used; the message names it."""


def roster_settings_update(
    *,
    organization: Organization,
    folder: str | None = None,
    language_column: str | None = None,
    inactivate_limit_percent: int | None = None,
    folder_within: Path | None = None,
) -> RosterSettings:
    """Change what is given (None leaves a setting as it is); an empty folder stops the sync.
    With `folder_within` (the web page), the folder must be inside it: an organization's admin
    must not point the worker at the server's own files."""
    found, _ = RosterSettings.objects.get_or_create(organization=organization)
    if folder is not None:
        folder = folder.strip()
        if folder:
            path = Path(folder)
            if not path.is_absolute():
                raise RosterSettingsError(f"folder {folder!r} must be an absolute path")
            if folder_within is not None and not path.resolve().is_relative_to(
                folder_within.resolve()
            ):
                raise RosterSettingsError(
                    f"folder {folder!r} must be inside {folder_within} (SCHOOLSMS_DROP_ROOT)"
                )
            if not path.is_dir():
                raise RosterSettingsError(f"folder {folder!r} is not a directory on this machine")
        found.folder = folder
    if language_column is not None:
        column = language_column.strip()
        if column and not _LANGUAGE_COLUMN.match(column):
            raise RosterSettingsError(
                f"language column {column!r} must be a users.csv metadata column, "
                "like metadata.language"
            )
        found.language_column = column
    if inactivate_limit_percent is not None:
        if not 0 <= inactivate_limit_percent <= 100:
            raise RosterSettingsError("the inactivation limit must be a percentage from 0 to 100")
        found.inactivate_limit_percent = inactivate_limit_percent
    found.save()
    return found


def drop_folder_waiting(folder: Path, *, settle: float | None = None) -> list[Path]:
    """Bundles waiting in the folder, oldest first: files left unchanged for the settle time."""
    settle = settings.SCHOOLSMS_SYNC_SETTLE_SECONDS if settle is None else settle
    cutoff = time.time() - settle
    found = []
    for entry in folder.iterdir():
        if _NOT_A_BUNDLE.search(entry.name) or not entry.is_file():
            continue
        mtime = entry.stat().st_mtime
        if mtime <= cutoff:
            found.append((mtime, entry.name, entry))
    return [entry for _, _, entry in sorted(found)]


def roster_folders_check() -> list[ImportJob]:
    """For each organization with a drop folder and no roster import under way (or waiting
    for an admin): claim its oldest waiting bundle by moving it to processing/, and queue its
    import. Returns the jobs queued."""
    import_jobs_abandoned_fail()
    queued = []
    for roster in RosterSettings.objects.exclude(folder="").select_related("organization"):
        try:
            job = _claim(roster)
        except OSError as exc:
            logger.error("roster sync for %s: %s", roster.organization.slug, exc)
            continue
        if job is not None:
            queued.append(job)
    return queued


def _claim(roster: RosterSettings) -> ImportJob | None:
    with transaction.atomic():
        # The settings row is the organization's lock: two workers never claim two bundles.
        RosterSettings.objects.select_for_update().filter(pk=roster.pk).first()
        busy = ImportJob.objects.filter(
            organization=roster.organization, source=ImportSource.FOLDER, status__in=_UNDER_WAY
        ).exists()
        if busy:
            return None
        folder = Path(roster.folder)
        waiting = drop_folder_waiting(folder)
        if not waiting:
            return None
        bundle = waiting[0]
        processing = folder / PROCESSING
        processing.mkdir(exist_ok=True)
        target = processing / bundle.name
        if target.exists():
            target = processing / f"{time.strftime('%Y%m%d-%H%M%S')}-{bundle.name}"
        bundle.rename(target)  # the claim: a bundle leaves the folder once
        job = import_job_create(
            organization=roster.organization,
            kind=ImportKind.ONEROSTER,
            source=ImportSource.FOLDER,
            filename=bundle.name,
            path=target,
        )
        import_job_enqueue(job=job)
        logger.info("roster sync for %s: importing %s", roster.organization.slug, bundle.name)
        return job
