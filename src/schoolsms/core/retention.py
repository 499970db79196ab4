"""Retention: message rows of broadcasts finished long ago go to gzip CSV archives (the SMS Log
export's columns, one file per organization and month), and only then leave the database.
Finished background-task rows are pruned too. Consent history is never deleted.

Each archive file is rewritten whole and swapped in atomically; a broadcast already in a file
is not written again. So a crash between archiving and deleting costs nothing: the next run
finds the broadcast archived and deletes its rows."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Max, Min, Q
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.operations.services import Duty

if TYPE_CHECKING:
    from schoolsms.reports.selectors import SmsLogFilter

# The exports (and the spreadsheet and phone-number libraries under them) are imported when an
# archive is written: this module is loaded by every command and worker as it starts (the
# daily prune duty), and they were a tenth of a second of that.

DELETE_BATCH = 5000


@dataclass
class PruneReport:
    archived_rows: int = 0
    deleted_rows: int = 0
    broadcasts: int = 0
    files: list[Path] = field(default_factory=list)
    tasks_deleted: int = 0

    def summary(self) -> str:
        return (
            f"{self.broadcasts} broadcast(s): {self.archived_rows:,} row(s) archived to "
            f"{len(self.files)} file(s), {self.deleted_rows:,} row(s) deleted; "
            f"{self.tasks_deleted:,} finished task row(s) deleted"
        )


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def archived_broadcasts(path: Path) -> set[int]:
    """Broadcast ids already in an archive file (its broadcast_id column)."""
    if not path.exists():
        return set()
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return {int(row["broadcast_id"]) for row in csv.DictReader(handle)}


def _write_archive(path: Path, f: SmsLogFilter) -> int:
    """Add the selection's rows to the archive at `path` (made if missing); returns rows added.
    The old file's bytes are copied and the new rows added as one more gzip member (a valid
    gzip file), written beside it, synced, then swapped in."""
    from schoolsms.reports.exports import sms_log_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    existing = path.exists()
    lines = 0
    with tmp.open("wb") as out:
        if existing:
            out.write(path.read_bytes())
        with gzip.GzipFile(fileobj=out, mode="wb") as member:
            header_left = existing  # the file has its header already
            for block in sms_log_csv(f):
                if header_left and b"\n" in block:
                    block = block.split(b"\n", 1)[1]
                    header_left = False
                lines += block.count(b"\n")
                member.write(block)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return lines if existing else lines - 1


def _finished(cutoff: dt.datetime) -> Q:
    return Q(status=BroadcastStatus.COMPLETE, completed_at__lt=cutoff) | Q(
        status=BroadcastStatus.CANCELED, canceled_at__lt=cutoff
    )


def messages_delete(broadcast_ids: list[int]) -> int:
    deleted = 0
    for broadcast_id in broadcast_ids:
        while True:
            ids = list(
                Message.objects.filter(broadcast_id=broadcast_id).values_list("id", flat=True)[
                    :DELETE_BATCH
                ]
            )
            if not ids:
                break
            deleted += Message.objects.filter(id__in=ids).delete()[0]
    return deleted


def _organization_prune(
    organization: Organization, cutoff: dt.datetime, archive_dir: Path, report: PruneReport
) -> None:
    from schoolsms.reports.selectors import SmsLogFilter

    ids = list(
        Broadcast.objects.filter(_finished(cutoff), organization=organization)
        .filter(messages__isnull=False)
        .distinct()
        .values_list("id", flat=True)
    )
    if not ids:
        return
    span = Message.objects.filter(broadcast_id__in=ids).aggregate(
        first=Min("created_at"), last=Max("created_at")
    )
    tz = zoneinfo.ZoneInfo(organization.timezone)
    first, last = span["first"].astimezone(tz).date(), span["last"].astimezone(tz).date()
    for month in _months(first, last):
        path = archive_dir / organization.slug / f"{organization.slug}-{month:%Y-%m}.csv.gz"
        todo = sorted(set(ids) - archived_broadcasts(path))
        if not todo:
            continue
        f = SmsLogFilter(
            organization=organization,
            date_from=month,
            date_to=_month_end(month),
            broadcast_ids=todo,
            sort="date",
            descending=False,
        )
        start, end = f.utc_bounds()
        if not Message.objects.filter(
            broadcast_id__in=todo, created_at__gte=start, created_at__lt=end
        ).exists():
            continue
        report.archived_rows += _write_archive(path, f)
        report.files.append(path)
    report.deleted_rows += messages_delete(ids)
    report.broadcasts += len(ids)


def tasks_prune(cutoff: dt.datetime) -> int:
    """Finished rows of the database task backend (when it is the backend in use)."""
    if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
        return 0
    from django_tasks_db.models import DBTaskResult

    return int(
        DBTaskResult.objects.filter(
            status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=cutoff
        ).delete()[0]
    )


def prune(
    *,
    older_than_days: int,
    archive_dir: Path,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> PruneReport:
    cutoff = (now or timezone.now()) - dt.timedelta(days=older_than_days)
    report = PruneReport()
    for organization in Organization.objects.order_by("slug"):
        if progress:
            progress(organization.slug)
        _organization_prune(organization, cutoff, archive_dir, report)
    report.tasks_deleted = tasks_prune(cutoff)
    return report


def _daily_prune() -> str:
    return prune(
        older_than_days=settings.SCHOOLSMS_RETENTION_DAYS,
        archive_dir=Path(settings.SCHOOLSMS_ARCHIVE_DIR),
    ).summary()


# SCHOOLSMS_RETENTION_DAYS > 0: one worker a day runs the prune.
DAILY_PRUNE = Duty(
    name="prune",
    every=dt.timedelta(days=1),
    run=_daily_prune,
    enabled=lambda: settings.SCHOOLSMS_RETENTION_DAYS > 0,
)
