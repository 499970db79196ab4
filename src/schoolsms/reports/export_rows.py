"""The SMS Log and SMS Status export rows, defined once: columns, order, protection, time zone.

Every writer reads these definitions: the plain row writer (CSV, XLSX, JSON, the terminal
table) through `sms_log_records` / `sms_status_records`, and the database-side CSV writers
(exports_pg: PostgreSQL COPY; exports_sqlite: one finished line per row) by rendering each
column's kind in their SQL. They differ only in how rows leave the database; a test holds their
bytes equal.
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import DELIVERY_STAGE, DeliveryResult, Reason
from schoolsms.reports.cells import safe_text
from schoolsms.reports.keyset import ordering
from schoolsms.reports.selectors import (
    EXPORT_FIELDS,
    SORT_KEYS,
    SmsLogFilter,
    sms_log_export_rows,
)
from schoolsms.reports.sms_status import StatusRow, sms_status_rows

CHUNK_ROWS = 2000  # rows fetched per round trip by the plain row writer


class Kind(enum.Enum):
    TIME = "time"  # a stored UTC time, shown in the organization's zone
    NUMBER = "number"  # written as it is
    TEXT = "text"  # free text from people: formula-protected (cells.safe_text)
    LABEL = "label"  # a stored code shown by its label
    CODE = "code"  # a stored code written as it is (never starts a formula)


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind
    # The export row's fields (selectors.EXPORT_FIELDS) it is made of; TEXT joins several
    # with a space and trims the spaces at both ends (first and last name).
    fields: tuple[str, ...]
    labels: tuple[tuple[str, str], ...] = ()
    # LABEL: what a code without a label shows: itself (True) or nothing (False).
    unknown_shows_code: bool = False

    @property
    def field(self) -> str:
        return self.fields[0]


_STAGES = tuple((str(k), v) for k, v in DELIVERY_STAGE.items())
_RESULTS = tuple(DeliveryResult.choices)
_REASONS = tuple(Reason.choices)

SMS_LOG_COLUMNS: tuple[Column, ...] = (
    Column("date", Kind.TIME, ("r_created",)),
    Column("broadcast_id", Kind.NUMBER, ("r_broadcast",)),
    Column("broadcast_name", Kind.TEXT, ("r_broadcast_name",)),
    Column("contact_external_id", Kind.TEXT, ("r_external_id",)),
    Column("contact_name", Kind.TEXT, ("r_first", "r_last")),
    Column("phone", Kind.TEXT, ("r_phone",)),
    Column("delivery_stage", Kind.LABEL, ("r_result",), _STAGES),
    Column("delivery_result", Kind.LABEL, ("r_result",), _RESULTS),
    Column("reason_code", Kind.CODE, ("r_reason",)),
    Column("reason", Kind.LABEL, ("r_reason",), _REASONS, unknown_shows_code=True),
    Column("carrier_error_code", Kind.TEXT, ("r_code",)),
    Column("delivered_at", Kind.TIME, ("r_delivered",)),
)
SMS_LOG_HEADER = [c.header for c in SMS_LOG_COLUMNS]

SMS_STATUS_HEADER = [
    "contact_external_id",
    "contact_name",
    "phone",
    "sms_status",
    "status_changed_at",
    "blocked",
]


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


def _cell_reader(column: Column, local: LocalTime) -> Any:
    """A function from an export row (a tuple in EXPORT_FIELDS order) to the column's cell."""
    at = [EXPORT_FIELDS.index(name) for name in column.fields]
    i = at[0]
    if column.kind is Kind.TIME:
        return lambda row: local(row[i])
    if column.kind is Kind.TEXT:
        if len(at) > 1:
            return lambda row: safe_text(" ".join(row[j] or "" for j in at).strip(" "))
        return lambda row: safe_text(row[i] or "")
    if column.kind is Kind.LABEL:
        labels = dict(column.labels)
        if column.unknown_shows_code:
            return lambda row: labels.get(row[i], row[i])
        return lambda row: labels.get(row[i], "")
    return lambda row: row[i]


def records(columns: Sequence[Column], rows: Any, local: LocalTime) -> Iterator[list[Any]]:
    readers = [_cell_reader(c, local) for c in columns]
    for row in rows:
        yield [read(row) for read in readers]


def sms_log_records(f: SmsLogFilter) -> Iterator[list[Any]]:
    """The selection as export rows in SMS_LOG_HEADER order, in the pages' order."""
    rows = (
        sms_log_export_rows(f)
        .order_by(*ordering(SORT_KEYS[f.sort], f.descending))
        .values_list(*EXPORT_FIELDS)
    )
    return records(SMS_LOG_COLUMNS, rows.iterator(chunk_size=CHUNK_ROWS), LocalTime(f.organization))


def sms_log_order_sql(f: SmsLogFilter, table: str = "t") -> str:
    """The pages' order (keyset.ordering) over `table`'s export rows, for the SQL writers:
    NULLs last going up and first going down, and among them by creation time. Said only for
    columns with NULLs: SQLite can walk an index backwards for `DESC` but not for
    `DESC NULLS FIRST`."""
    direction = "DESC" if f.descending else "ASC"
    if not SORT_KEYS[f.sort].nullable:
        return f"{table}.r_sort {direction}, {table}.r_id {direction}"
    nulls = "NULLS FIRST" if f.descending else "NULLS LAST"
    among_nulls = f"CASE WHEN {table}.r_sort IS NULL THEN {table}.r_created END {direction}"
    return f"{table}.r_sort {direction} {nulls}, {among_nulls}, {table}.r_id {direction}"


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
