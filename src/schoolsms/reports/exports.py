"""CSV and XLSX exports of both reports, written row by row so memory stays flat."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from schoolsms.reports import exports_pg, exports_sqlite
from schoolsms.reports.cells import safe_text
from schoolsms.reports.export_rows import (
    CHUNK_ROWS,
    SMS_LOG_HEADER,
    SMS_STATUS_HEADER,
    LocalTime,
    sms_log_records,
    sms_status_records,
    text_time,
)
from schoolsms.reports.selectors import SmsLogFilter

# The rows are export_rows'; these names are the writers' public face for views, API and CLI.
__all__ = [
    "SMS_LOG_HEADER",
    "SMS_STATUS_HEADER",
    "LocalTime",
    "csv_chunks",
    "csv_response",
    "download_name",
    "safe_text",
    "sms_log_csv",
    "sms_log_records",
    "sms_status_records",
    "text_time",
    "xlsx_response",
    "xlsx_write",
]
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


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
