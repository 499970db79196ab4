"""The SMS Log CSV on PostgreSQL, written by the database itself (COPY … TO STDOUT).

Formatting a million rows in Python costs several seconds; PostgreSQL's COPY writes the same
CSV as it reads the rows and streams it to us in blocks. The output is byte-for-byte what
`exports.csv_chunks(sms_log_records(...))` writes (a test on PostgreSQL compares the two): the
same columns, local times, labels and formula protection (`exports.safe_text`), with empty
values as NULL so that both writers leave them unquoted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection

from schoolsms.messaging.models import DELIVERY_STAGE, DeliveryResult, Reason
from schoolsms.reports.selectors import SORT_KEYS, SmsLogFilter, sms_log_export_rows

# A formula starts with one of these, unless the whole cell is an E.164 number.
_PROTECT = (
    "CASE WHEN left({0}, 1) IN ('=', '+', '-', '@', chr(9), chr(13))"
    " AND {0} !~ '^[+][0-9]+$' THEN '''' || {0} ELSE {0} END"
)


def available() -> bool:
    return connection.vendor == "postgresql"


def _label_case(column: str, choices: list[tuple[str, str]]) -> tuple[str, list[str]]:
    parts, params = [], []
    for value, label in choices:
        if label:
            parts.append("WHEN %s THEN %s")
            params += [value, label]
    return f"CASE {column} {' '.join(parts)} END", params


def _protect(expr: str) -> str:
    return "NULLIF(" + _PROTECT.format(f"({expr})") + ", '')"


def sms_log_copy_sql(f: SmsLogFilter) -> tuple[str, list[Any]]:
    """The COPY statement for the selection and its parameters."""
    key = SORT_KEYS[f.sort]
    inner = sms_log_export_rows(f)
    inner_sql, inner_params = inner.query.sql_with_params()
    stage, stage_params = _label_case(
        "t.r_result", [(str(k), v) for k, v in DELIVERY_STAGE.items()]
    )
    result, result_params = _label_case("t.r_result", list(DeliveryResult.choices))
    reason, reason_params = _label_case("t.r_reason", list(Reason.choices))
    when = "to_char(t.{} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')"
    direction = "DESC" if f.descending else "ASC"
    # The pages' order (keyset.ordering): NULLs last going up and first going down, and among
    # them by creation time. Said only for columns with NULLs: SQLite can walk an index
    # backwards for `DESC` but not for `DESC NULLS FIRST`.
    order = f"t.r_sort {direction}, t.r_id {direction}"
    if key.nullable:
        nulls = "NULLS FIRST" if f.descending else "NULLS LAST"
        among_nulls = f"CASE WHEN t.r_sort IS NULL THEN t.r_created END {direction}"
        order = f"t.r_sort {direction} {nulls}, {among_nulls}, t.r_id {direction}"
    columns = [
        when.format("r_created"),
        "t.r_broadcast",
        _protect("t.r_broadcast_name"),
        _protect("COALESCE(t.r_external_id, '')"),
        _protect("btrim(COALESCE(t.r_first, '') || ' ' || COALESCE(t.r_last, ''))"),
        _protect("COALESCE(t.r_phone, '')"),
        f"NULLIF({stage}, '')",
        result,
        "NULLIF(t.r_reason, '')",
        f"NULLIF({reason}, '')",
        _protect("t.r_code"),
        when.format("r_delivered"),
    ]
    tz = f.organization.timezone
    sql = (
        f"COPY (SELECT {', '.join(columns)} FROM ({inner_sql}) t"
        f" ORDER BY {order}) TO STDOUT WITH (FORMAT csv)"
    )
    # Parameters in the order their placeholders appear: the select list comes first.
    return sql, [tz, *stage_params, *result_params, *reason_params, tz, *inner_params]


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
