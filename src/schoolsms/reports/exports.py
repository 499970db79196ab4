"""CSV and XLSX exports of both reports, written row by row so memory stays flat."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import DELIVERY_STAGE, DeliveryResult, Reason
from schoolsms.reports import exports_pg, exports_sqlite
from schoolsms.reports.cells import safe_text
from schoolsms.reports.selectors import SmsLogFilter, sms_log_rows
from schoolsms.reports.sms_status import StatusRow, sms_status_rows

SMS_LOG_HEADER = [
    "date",
    "broadcast_id",
    "broadcast_name",
    "contact_external_id",
    "contact_name",
    "phone",
    "delivery_stage",
    "delivery_result",
    "reason_code",
    "reason",
    "carrier_error_code",
    "delivered_at",
]
SMS_STATUS_HEADER = [
    "contact_external_id",
    "contact_name",
    "phone",
    "sms_status",
    "status_changed_at",
    "blocked",
]
CHUNK_ROWS = 2000  # rows fetched per round trip, and rows per chunk of streamed output
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row

_RESULT_LABELS = dict(DeliveryResult.choices)
_STAGES = {str(k): v for k, v in DELIVERY_STAGE.items()}
_REASON_LABELS = dict(Reason.choices)


class LocalTime:
    """Converts stored UTC datetimes to the organization's time zone."""

    def __init__(self, organization: Organization) -> None:
        self.tz = zoneinfo.ZoneInfo(organization.timezone)

    def __call__(self, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite without converters: stored as naive UTC
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self.tz)


def text_time(value: dt.datetime | None) -> str:
    """Local wall-clock time as spreadsheets read it: 2026-09-01 07:30:00."""
    return value.replace(tzinfo=None).isoformat(" ", "seconds") if value else ""


def sms_log_records(f: SmsLogFilter) -> Iterator[list[Any]]:
    """The selection as export rows in SMS_LOG_HEADER order: text protected, times local."""
    local = LocalTime(f.organization)
    for (
        _id,
        created_at,
        broadcast_id,
        broadcast_name,
        external_id,
        first,
        last,
        phone,
        result,
        reason,
        carrier_code,
        delivered_at,
    ) in sms_log_rows(f).iterator(chunk_size=CHUNK_ROWS):
        yield [
            local(created_at),
            broadcast_id,
            safe_text(broadcast_name),
            safe_text(external_id or ""),
            safe_text(f"{first or ''} {last or ''}".strip(" ")),
            safe_text(phone or ""),
            _STAGES[result],
            _RESULT_LABELS[result],
            reason,
            _REASON_LABELS.get(reason, reason),
            safe_text(carrier_code),
            local(delivered_at),
        ]


def sms_status_records(
    organization: Organization, *, status: str | None = None
) -> Iterator[list[Any]]:
    local = LocalTime(organization)
    row: StatusRow
    for row in sms_status_rows(organization, status=status):
        yield [
            safe_text(row.contact_external_id),
            safe_text(row.contact_name),
            safe_text(row.phone),
            row.sms_status,
            local(row.status_changed_at),
            "yes" if row.blocked else "no",
        ]


def sms_log_csv(
    f: SmsLogFilter, progress: Callable[[int], object] | None = None
) -> Iterator[bytes]:
    """The SMS Log CSV, put together by the database itself (same bytes as csv_chunks)."""
    if exports_pg.available():
        for block in exports_pg.sms_log_copy_chunks(f, SMS_LOG_HEADER):
            if progress:
                progress(block.count(b"\n"))
            yield block
        return
    if exports_sqlite.available():
        yield from exports_sqlite.sms_log_csv_lines(f, SMS_LOG_HEADER, progress)
        return
    yield from csv_chunks(SMS_LOG_HEADER, sms_log_records(f), progress)


def csv_chunks(
    header: list[str],
    records: Iterable[list[Any]],
    progress: Callable[[int], object] | None = None,
) -> Iterator[bytes]:
    """UTF-8 CSV in chunks of CHUNK_ROWS rows, for StreamingHttpResponse or a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    pending = 0
    for record in records:
        writer.writerow([text_time(v) if isinstance(v, dt.datetime) else v for v in record])
        pending += 1
        if pending == CHUNK_ROWS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(pending)
            pending = 0
    yield buffer.getvalue().encode()
    if progress and pending:
        progress(pending)


def xlsx_write(
    target: str | IO[bytes],
    header: list[str],
    records: Iterable[list[Any]],
    *,
    sheet: str,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Write an XLSX workbook in constant memory (rows go to a temporary file as they come).
    Stops at Excel's row limit and says so in a last row. Returns the number of data rows."""
    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    worksheet = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    worksheet.write_row(0, 0, header, bold)
    worksheet.set_column(0, len(header) - 1, 18)
    written = 0
    for record in records:
        if written == XLSX_MAX_ROWS:
            worksheet.write_string(
                written + 1, 0, "Stopped at Excel's row limit: download CSV for every row."
            )
            break
        written += 1
        for col, value in enumerate(record):
            if value is None or value == "":
                continue
            if isinstance(value, dt.datetime):
                worksheet.write_datetime(written, col, value.replace(tzinfo=None), when)
            elif isinstance(value, int):
                worksheet.write_number(written, col, value)
            else:
                worksheet.write_string(written, col, str(value))
        if progress and written % CHUNK_ROWS == 0:
            progress(CHUNK_ROWS)
    workbook.close()
    if progress:
        progress(written % CHUNK_ROWS)
    return written


def download_name(stem: str, org_slug: str, ext: str) -> str:
    return f"{stem}-{org_slug}-{timezone.now():%Y%m%d-%H%M}.{ext}"


def csv_response(chunks: Any, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(header: list[str], records: Any, *, sheet: str, filename: str) -> FileResponse:
    # XLSX is a zip that is only complete at the end: rows go to a temporary file on disk
    # (constant memory), which is then streamed and deleted when the response closes.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by FileResponse)
    xlsx_write(spool, header, records, sheet=sheet)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
