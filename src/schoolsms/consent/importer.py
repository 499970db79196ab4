"""Importing consent statuses from another system's CSV export (`phone,sms_status[,changed_at]`)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentRecord, ConsentSource, ConsentStatus
from schoolsms.consent.services import ConsentChange, consent_change_many
from schoolsms.csvimport import CsvFile, CsvImportError, RowError
from schoolsms.phones import InvalidPhoneNumber, to_e164

__all__ = ["ConsentImportError", "ConsentImportSummary", "RowError", "consent_import"]

REQUIRED = ("phone", "sms_status")
COLUMNS = frozenset({*REQUIRED, "changed_at"})
_STATUSES = frozenset(ConsentStatus.values)
# The event keeps the file's time; its text says when it was recorded here.
EVENT_TEXT = "imported from another system on {date}"


class ConsentImportError(CsvImportError):
    """Raised when any row of a consent file is bad; nothing was written. See `errors`."""


@dataclass(frozen=True)
class ConsentRow:
    line: int
    phone: str  # E.164
    status: str
    changed_at: dt.datetime


@dataclass
class ConsentImportSummary:
    rows: int = 0
    changed: int = 0
    unchanged: int = 0  # the number already had that status
    kept_newer: int = 0  # the registry saw a later change than the file's; it wins

    def __str__(self) -> str:
        text = f"{self.rows} rows: {self.changed} changed, {self.unchanged} unchanged"
        if self.kept_newer:
            text += f", {self.kept_newer} kept (a later change is already recorded)"
        return text


def parse_changed_at(value: str, tz: dt.tzinfo) -> dt.datetime:
    """An ISO date or date-time; values without an offset are in `tz`. Raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a date (2025-08-20) or date-time (2025-08-20T14:30)") from None
    if timezone.is_naive(when):
        when = when.replace(tzinfo=tz)
    return when


def consent_rows_read(
    file: BinaryIO,
    *,
    organization: Organization,
    now: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ConsentRow], list[RowError]]:
    """Every row checked (`progress` told every 1,000 rows): the good rows, and the errors."""
    csv_file = CsvFile(file, required=REQUIRED, allowed=COLUMNS.__contains__)
    tz = zoneinfo.ZoneInfo(organization.timezone)
    first_line: dict[str, int] = {}
    rows: list[ConsentRow] = []
    read = 0
    for row in csv_file:
        read += 1
        if progress is not None and read % 1000 == 0:
            progress(read)
        ok = True
        raw_phone = row.get("phone")
        phone = ""
        try:
            phone = to_e164(raw_phone, organization.phone_region)
        except InvalidPhoneNumber as exc:
            why = str(exc).removeprefix(f"{raw_phone!r} ")
            csv_file.error(row.line, "phone", raw_phone, why)
            ok = False
        if phone in first_line:
            csv_file.error(
                row.line, "phone", raw_phone, f"appears again (first on line {first_line[phone]})"
            )
            ok = False
        elif phone:
            first_line[phone] = row.line
        raw_status = row.get("sms_status")
        status = raw_status.lower()
        if status not in _STATUSES:
            csv_file.error(
                row.line,
                "sms_status",
                raw_status,
                f"must be one of {', '.join(ConsentStatus.values)}",
            )
            ok = False
        raw_when = row.get("changed_at")
        when = now
        if raw_when:
            try:
                when = parse_changed_at(raw_when, tz)
            except ValueError as exc:
                csv_file.error(row.line, "changed_at", raw_when, str(exc))
                ok = False
            else:
                if when > now:
                    csv_file.error(row.line, "changed_at", raw_when, "is in the future")
                    ok = False
        if ok:
            rows.append(ConsentRow(row.line, phone, status, when))
    if progress is not None:
        progress(read)
    return rows, csv_file.errors


def consent_import(
    *,
    organization: Organization,
    file: BinaryIO,
    progress: Callable[[int], None] | None = None,
    saving: Callable[[int], None] | None = None,
) -> ConsentImportSummary:
    """Set consent statuses from a file, all or nothing, through the consent services.

    Each change is recorded with source `import` at the row's changed_at. A number already at
    the file's status is left alone; so is one whose record changed after the row's changed_at
    (a STOP texted yesterday beats an export from last month) unless that record is only
    Pending Opt-In, which is no decision at all. `progress` receives the number of rows
    checked so far (before the write: inside its transaction nobody else would see it), and
    `saving` the number of rows once the write begins.
    """
    rows, errors = consent_rows_read(
        file, organization=organization, now=timezone.now(), progress=progress
    )
    if errors:
        raise ConsentImportError(errors)
    summary = ConsentImportSummary(rows=len(rows))
    if saving is not None:
        saving(len(rows))  # every row is good: the write begins
    sender = organization.sender
    changes: list[ConsentChange] = []
    with transaction.atomic():
        current = {
            phone: (status, changed_at)
            for phone, status, changed_at in ConsentRecord.objects.filter(
                sender=sender
            ).values_list("phone", "status", "changed_at")
        }
        for row in rows:
            old_status, old_when = current.get(row.phone, (None, None))
            if old_status == row.status:
                summary.unchanged += 1
            elif (
                old_status != ConsentStatus.PENDING_OPT_IN
                and old_when is not None
                and old_when > row.changed_at
            ):
                summary.kept_newer += 1
            else:
                changes.append(ConsentChange(row.phone, old_status, row.status, row.changed_at))
        for i in range(0, len(changes), 5000):
            summary.changed += consent_change_many(
                sender=sender,
                changes=changes[i : i + 5000],
                source=ConsentSource.IMPORT,
                text=EVENT_TEXT.format(date=timezone.localdate()),
                organization=organization,
            )
    # A record changed by someone else between our read and our write keeps its newer status.
    summary.kept_newer += len(changes) - summary.changed
    return summary
