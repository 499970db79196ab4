"""The SMS Log CSV on PostgreSQL, written by the database itself (COPY … TO STDOUT).

Formatting a million rows in Python costs several seconds; PostgreSQL's COPY writes the same
CSV as it reads the rows and streams it to us in blocks. The columns are export_rows'
(SMS_LOG_COLUMNS), each kind written in SQL here; the output is byte-for-byte what
`exports.csv_chunks(sms_log_records(...))` writes (a test on PostgreSQL compares the two).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection

from schoolsms.reports.cells import safe_text_sql
from schoolsms.reports.export_rows import SMS_LOG_COLUMNS, Column, Kind, sms_log_order_sql
from schoolsms.reports.selectors import EXPORT_NULLABLE, SmsLogFilter, sms_log_export_rows


def available() -> bool:
    return connection.vendor == "postgresql"


def _value(column: Column) -> str:
    """The column's stored text; '' for NULL, as the plain writer reads it."""
    names = [
        f"t.{n}" if n not in EXPORT_NULLABLE else f"COALESCE(t.{n}, '')" for n in column.fields
    ]
    return names[0] if len(names) == 1 else "btrim(" + " || ' ' || ".join(names) + ")"


def _cell(column: Column, tz: str) -> tuple[str, list[Any]]:
    """One column as SQL (and its parameters). Empty cells are NULL, which COPY leaves
    unquoted as the csv module does ('' would be written as "")."""
    field = f"t.{column.field}"
    if column.kind is Kind.TIME:
        return f"to_char({field} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", [tz]
    if column.kind is Kind.NUMBER:
        return field, []
    if column.kind is Kind.TEXT:
        return f"NULLIF({safe_text_sql(f'({_value(column)})', 'postgresql')}, '')", []
    if column.kind is Kind.LABEL:
        whens, params = [], []
        for value, label in column.labels:
            if label:
                whens.append("WHEN %s THEN %s")
                params += [value, label]
        fallback = f" ELSE {field}" if column.unknown_shows_code else ""
        return f"NULLIF(CASE {field} {' '.join(whens)}{fallback} END, '')", params
    return f"NULLIF({field}, '')", []


def sms_log_copy_sql(f: SmsLogFilter) -> tuple[str, list[Any]]:
    """The COPY statement for the selection and its parameters."""
    inner_sql, inner_params = sms_log_export_rows(f).query.sql_with_params()
    cells, params = [], []
    for column in SMS_LOG_COLUMNS:
        sql, column_params = _cell(column, f.organization.timezone)
        cells.append(sql)
        params += column_params
    sql = (
        f"COPY (SELECT {', '.join(cells)} FROM ({inner_sql}) t"
        f" ORDER BY {sms_log_order_sql(f)}) TO STDOUT WITH (FORMAT csv)"
    )
    # Parameters in the order their placeholders appear: the select list comes first.
    return sql, [*params, *inner_params]


def sms_log_copy_chunks(f: SmsLogFilter, header: list[str]) -> Iterator[bytes]:
    """The CSV (header included) in the blocks PostgreSQL sends."""
    sql, params = sms_log_copy_sql(f)
    yield (",".join(header) + "\n").encode()
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(sql, params) as copy:
        for block in copy:
            yield bytes(block)
