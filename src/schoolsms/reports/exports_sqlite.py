"""The SMS Log CSV on SQLite, each line put together by SQLite itself.

Handing a million rows of twelve columns to Python costs more than SQLite's own work, so the
query returns one finished CSV line per row, and Python only joins lines into blocks. SQLite has
no time zone rules, so the organization's UTC offsets over the exported period are worked out
here (a short list: they change at most a few times a year) and applied per row. The output is
byte-for-byte what `exports.csv_chunks(sms_log_records(...))` writes; a test compares the two.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection
from django.utils import timezone

from schoolsms.messaging.models import DELIVERY_STAGE, DeliveryResult, Reason
from schoolsms.reports.selectors import SORT_KEYS, SmsLogFilter, sms_log_export_rows

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


def _protect(expr: str, raw: str | None = None) -> str:
    """cells.safe_text in SQL: a leading apostrophe unless the cell is `+` and digits. The
    test reads the raw column when there is one, against a literal pattern (real tab and CR
    characters in it), so there is no per-row work beyond one GLOB."""
    test = raw or expr
    return (
        f"CASE WHEN {test} GLOB '[-=+@\t\r]*'"
        f" THEN CASE WHEN {test} GLOB '+[0-9]*' AND NOT {test} GLOB '+*[^0-9]*'"
        f" THEN {expr} ELSE '''' || {expr} END ELSE {expr} END"
    )


def _label_case(column: str, choices: list[tuple[str, str]], default: str) -> str:
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


def sms_log_line_sql(f: SmsLogFilter) -> tuple[str, list[Any]]:
    key = SORT_KEYS[f.sort]
    inner = sms_log_export_rows(f)
    inner_sql, params = inner.query.sql_with_params()
    start, end = f.utc_bounds()
    offsets = utc_offsets(f.organization.timezone, start, max(end, timezone.now()))
    stages = [(str(k), v) for k, v in DELIVERY_STAGE.items()]
    cells = [
        _local("t.r_created", offsets),
        "t.r_broadcast",
        _quote(_protect("t.r_broadcast_name", "t.r_broadcast_name"), "t.r_broadcast_name"),
        _quote(_protect("COALESCE(t.r_external_id, '')", "t.r_external_id"), "t.r_external_id"),
        _quote(
            _protect("trim(COALESCE(t.r_first, '') || ' ' || COALESCE(t.r_last, ''), ' ')"),
            "t.r_first",
            "t.r_last",
        ),
        _quote(_protect("COALESCE(t.r_phone, '')", "t.r_phone"), "t.r_phone"),
        _label_case("t.r_result", stages, "''"),
        _label_case("t.r_result", list(DeliveryResult.choices), "''"),
        "t.r_reason",
        _label_case("t.r_reason", list(Reason.choices), _quote("t.r_reason")),
        _quote(_protect("t.r_code", "t.r_code"), "t.r_code"),
        _local("t.r_delivered", offsets),
    ]
    direction = "DESC" if f.descending else "ASC"
    # The pages' order (keyset.ordering): NULLs last going up and first going down, and among
    # them by creation time. Said only for columns with NULLs: SQLite can walk an index
    # backwards for `DESC` but not for `DESC NULLS FIRST`.
    order = f"t.r_sort {direction}, t.r_id {direction}"
    if key.nullable:
        nulls = "NULLS FIRST" if f.descending else "NULLS LAST"
        among_nulls = f"CASE WHEN t.r_sort IS NULL THEN t.r_created END {direction}"
        order = f"t.r_sort {direction} {nulls}, {among_nulls}, t.r_id {direction}"
    line = " || ',' || ".join(cells)
    sql = f"SELECT {line} FROM ({inner_sql}) t ORDER BY {order}"
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
