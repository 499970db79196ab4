"""The SMS Log CSV on SQLite, each line put together by SQLite itself.

Handing a million rows of twelve columns to Python costs more than SQLite's own work, so the
query returns one finished CSV line per row, and Python only joins lines into blocks. SQLite has
no time zone rules, so the organization's UTC offsets over the exported period are worked out
here (a short list: they change at most a few times a year) and applied per row. The columns are
export_rows' (SMS_LOG_COLUMNS), each kind written in SQL here; the output is byte-for-byte what
`exports.csv_chunks(sms_log_records(...))` writes; a test compares the two.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection
from django.utils import timezone

from schoolsms.reports.cells import safe_text_sql
from schoolsms.reports.export_rows import SMS_LOG_COLUMNS, Column, Kind, sms_log_order_sql
from schoolsms.reports.selectors import EXPORT_NULLABLE, SmsLogFilter, sms_log_export_rows

CHUNK_ROWS = 5000
_FORMAT = "%Y-%m-%d %H:%M:%S"


def available() -> bool:
    return connection.vendor == "sqlite"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _csv_constant(value: str) -> str:
    """A constant cell (a label) already quoted the way Python's csv module would."""
    if any(c in value for c in ',"\r\n'):
        value = '"' + value.replace('"', '""') + '"'
    return _sql_text(value)


# A literal pattern with the real characters in it, so nothing is built per row.
_NEEDS_QUOTES = "'*[,\"\n\r]*'"


def _quote(expr: str, *raw: str) -> str:
    """Quote a cell the way Python's csv module does. The test runs on the raw columns (cheap
    column reads; protection adds only an apostrophe, which never needs quoting)."""
    test = " OR ".join(f"{column} GLOB {_NEEDS_QUOTES}" for column in (raw or (expr,)))
    return f"CASE WHEN {test} THEN '\"' || replace({expr}, '\"', '\"\"') || '\"' ELSE {expr} END"


def _label_case(column: str, choices: tuple[tuple[str, str], ...], default: str) -> str:
    whens = " ".join(
        f"WHEN {_sql_text(value)} THEN {_csv_constant(label)}" for value, label in choices
    )
    return f"CASE {column} {whens} ELSE {default} END"


def utc_offsets(tz_name: str, start: dt.datetime, end: dt.datetime) -> list[tuple[str, int]]:
    """[(first UTC second, offset in seconds)] for every offset in force from start to end;
    the first entry's time is empty (it holds before the period too)."""
    tz = zoneinfo.ZoneInfo(tz_name)

    def offset(moment: dt.datetime) -> int:
        delta = moment.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    day = dt.timedelta(days=1)
    moment = start.astimezone(dt.UTC).replace(microsecond=0) - day
    current = offset(moment)
    found = [("", current)]
    while moment < end:
        following = moment + day
        if offset(following) != current:
            low, high = moment, following  # offset(low) is current, offset(high) is not
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            current = offset(high)
            found.append((high.strftime(_FORMAT), current))
        moment = following
    return found


def _local(column: str, offsets: list[tuple[str, int]]) -> str:
    """Stored UTC text to local 'YYYY-MM-DD HH:MM:SS', or '' for NULL."""
    whens = [f"WHEN {column} IS NULL THEN ''"]
    for (_, off), (boundary, _) in itertools.pairwise(offsets):
        whens.append(f"WHEN {column} < '{boundary}' THEN datetime({column}, '{off:+d} seconds')")
    return f"CASE {' '.join(whens)} ELSE datetime({column}, '{offsets[-1][1]:+d} seconds') END"


def _cell(column: Column, offsets: list[tuple[str, int]]) -> str:
    """One column as SQL giving its finished CSV cell ('' for an empty one, never NULL: a NULL
    would empty the whole line)."""
    field = f"t.{column.field}"
    if column.kind is Kind.TIME:
        return _local(field, offsets)
    if column.kind is Kind.TEXT:
        raw = [f"t.{n}" for n in column.fields]
        values = [f"COALESCE({r}, '')" if r[2:] in EXPORT_NULLABLE else r for r in raw]
        if len(values) == 1:
            return _quote(safe_text_sql(values[0], "sqlite", test=raw[0]), *raw)
        joined = "trim(" + " || ' ' || ".join(values) + ", ' ')"
        return _quote(safe_text_sql(joined, "sqlite"), *raw)
    if column.kind is Kind.LABEL:
        fallback = _quote(field) if column.unknown_shows_code else "''"
        return _label_case(field, column.labels, fallback)
    return f"COALESCE({field}, '')" if column.field in EXPORT_NULLABLE else field


def sms_log_line_sql(f: SmsLogFilter) -> tuple[str, list[Any]]:
    inner_sql, params = sms_log_export_rows(f).query.sql_with_params()
    start, end = f.utc_bounds()
    offsets = utc_offsets(f.organization.timezone, start, max(end, timezone.now()))
    line = " || ',' || ".join(_cell(column, offsets) for column in SMS_LOG_COLUMNS)
    sql = f"SELECT {line} FROM ({inner_sql}) t ORDER BY {sms_log_order_sql(f)}"
    return sql, list(params)


def sms_log_csv_lines(
    f: SmsLogFilter, header: list[str], progress: Callable[[int], object] | None = None
) -> Iterator[bytes]:
    sql, params = sms_log_line_sql(f)
    yield (",".join(header) + "\n").encode()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield ("\n".join([row[0] for row in rows]) + "\n").encode()
            if progress:
                progress(len(rows))
