"""Keyset (seek) pagination: pages found by the last row's sort values, never by OFFSET.

A cursor is the edge row's sort value and id, packed into an opaque URL-safe string. Pages stay
equally fast however deep the reader goes, because the database seeks straight to the cursor
through an index instead of counting past every earlier row.

The order is (column, id), NULLs last going up and first going down. Rows whose column is NULL
are ordered among themselves by (`SortKey.nulls_by`, id) instead: ordering them by id alone
made the database walk the whole table by primary key looking for NULLs of the chosen period.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, Q, QuerySet, When
from django.db.models.expressions import OrderBy

from schoolsms.inputs import DB_INT_MAX


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class SortKey:
    """One sortable column (a concrete field of the queryset's model) plus the id tie-breaker.
    `nulls_by` (a non-null datetime field) orders the rows where the column is NULL."""

    field: str
    nullable: bool = False
    is_datetime: bool = False
    nulls_by: str = "created_at"


# (sort value, row id, nulls_by value when the sort value is NULL)
Cursor = tuple[Any, int, Any]


def ordering(key: SortKey, descending: bool) -> list[OrderBy]:
    """The full order as ORDER BY terms, for queries that read every row (exports)."""
    column, row_id = F(key.field), F("id")
    if not key.nullable:
        return [column.desc(), row_id.desc()] if descending else [column.asc(), row_id.asc()]
    among_nulls = Case(When(**{f"{key.field}__isnull": True}, then=F(key.nulls_by)))
    if descending:
        return [column.desc(nulls_first=True), among_nulls.desc(), row_id.desc()]
    return [column.asc(nulls_last=True), among_nulls.asc(), row_id.asc()]


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def encode_cursor(value: Any, row_id: int, among_nulls: Any = None) -> str:
    raw = json.dumps([_text(value), row_id, _text(among_nulls)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key: SortKey) -> Cursor:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id, among_nulls = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(row_id, int) or not 0 <= row_id <= DB_INT_MAX:
            raise TypeError
        if isinstance(value, int) and not -DB_INT_MAX <= value <= DB_INT_MAX:
            raise TypeError
        if value is not None and key.is_datetime:
            value = dt.datetime.fromisoformat(value)
        if value is None:
            if not key.nullable:
                raise TypeError
            among_nulls = dt.datetime.fromisoformat(among_nulls)
    except (ValueError, TypeError):
        raise BadCursor(f"cursor {cursor!r} is not one this report made") from None
    return value, row_id, among_nulls


def _seek(queryset: QuerySet[Any], col: str, op: str, value: Any, row_id: int) -> QuerySet[Any]:
    # The plain bound (>= or <=) is where an index range scan starts; the OR refines it.
    return queryset.filter(**{f"{col}__{op}e": value}).filter(
        Q(**{f"{col}__{op}": value}) | Q(**{col: value, f"id__{op}": row_id})
    )


def _segment(
    queryset: QuerySet[Any], key: SortKey, descending: bool, nulls: bool, after: Cursor | None
) -> QuerySet[Any]:
    """The rows of one segment (the NULLs, or the values) in order, after a cursor in it.

    Each segment is asked for on its own, with plain comparisons, so that an index can start
    right at the cursor; an OR across NULL and non-NULL rows would make the database scan from
    the beginning on every page."""
    op = "lt" if descending else "gt"
    col = key.nulls_by if nulls else key.field
    if nulls:
        qs = queryset.filter(**{f"{key.field}__isnull": True})
    else:
        qs = queryset.filter(**{f"{col}__isnull": False}) if key.nullable else queryset
    if after is not None:
        qs = _seek(qs, col, op, after[2] if nulls else after[0], after[1])
    return qs.order_by(*([f"-{col}", "-id"] if descending else [col, "id"]))


def _after(
    queryset: QuerySet[Any], key: SortKey, descending: bool, cursor: Cursor | None, limit: int
) -> list[Any]:
    """Up to `limit` rows after the cursor (NULLs last going up, first going down, so that
    reversing the order reverses the rows exactly)."""
    segments = [False]
    if key.nullable:
        segments = [True, False] if descending else [False, True]
    if cursor is not None and key.nullable:
        segments = segments[segments.index(cursor[0] is None) :]
    rows: list[Any] = []
    for nulls in segments:
        rows += list(_segment(queryset, key, descending, nulls, cursor)[: limit - len(rows)])
        if len(rows) >= limit:
            break
        cursor = None  # the next segment starts at its beginning
    return rows


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def page_fetch(
    queryset: QuerySet[Any],
    *,
    key: SortKey,
    descending: bool,
    size: int,
    after: str | None = None,
    before: str | None = None,
) -> Page:
    """One page of `queryset` in the key's order, after or before a cursor."""
    backwards = before is not None
    cursor = None
    if after is not None:
        cursor = decode_cursor(after, key)
    elif before is not None:
        cursor = decode_cursor(before, key)
    rows = _after(queryset, key, descending != backwards, cursor, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def cursor_of(row: Any) -> str:
        value = getattr(row, key.field)
        return encode_cursor(value, row.id, getattr(row, key.nulls_by) if value is None else None)

    has_next = more if not backwards else True
    has_prev = (after is not None) if not backwards else more
    return Page(
        rows=rows,
        next_cursor=cursor_of(rows[-1]) if rows and has_next else None,
        prev_cursor=cursor_of(rows[0]) if rows and has_prev else None,
    )
