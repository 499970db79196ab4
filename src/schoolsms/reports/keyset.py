"""Keyset (seek) pagination: pages found by the last row's sort values, never by OFFSET.

A cursor is the sort column's value and the row id of the edge row, packed into an opaque URL-safe
string. Pages stay equally fast however deep the reader goes, because the database seeks straight
to the cursor through an index instead of counting past every earlier row.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class SortKey:
    """One sortable column (a concrete field of the queryset's model) plus the id tie-breaker."""

    field: str
    nullable: bool = False
    is_datetime: bool = False


def encode_cursor(value: Any, row_id: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key: SortKey) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(row_id, int):
            raise TypeError
        if value is not None and key.is_datetime:
            value = dt.datetime.fromisoformat(value)
        if value is None and not key.nullable:
            raise TypeError
    except (ValueError, TypeError):
        raise BadCursor(f"cursor {cursor!r} is not one this report made") from None
    return value, row_id


def _segment(
    queryset: QuerySet[Any],
    key: SortKey,
    descending: bool,
    nulls: bool,
    after: tuple[Any, int] | None,
) -> QuerySet[Any]:
    """The rows of one segment (the NULLs, or the values) in order, after a cursor in it.

    Each segment is asked for on its own, with plain comparisons, so that an index on
    (column, id) can start right at the cursor; an OR across NULL and non-NULL rows would make
    the database scan from the beginning on every page."""
    col, op = key.field, ("lt" if descending else "gt")
    id_order = "-id" if descending else "id"
    if nulls:
        qs = queryset.filter(**{f"{col}__isnull": True})
        if after is not None:
            qs = qs.filter(**{f"id__{op}": after[1]})
        return qs.order_by(id_order)
    qs = queryset.filter(**{f"{col}__isnull": False}) if key.nullable else queryset
    if after is not None:
        value, row_id = after
        # The plain bound (>= or <=) is where an index range scan starts; the OR refines it.
        qs = qs.filter(**{f"{col}__{op}e": value}).filter(
            Q(**{f"{col}__{op}": value}) | Q(**{col: value, f"id__{op}": row_id})
        )
    return qs.order_by(f"-{col}" if descending else col, id_order)


def _after(
    queryset: QuerySet[Any],
    key: SortKey,
    descending: bool,
    cursor: tuple[Any, int] | None,
    limit: int,
) -> list[Any]:
    """Up to `limit` rows after the cursor, NULLs last when ascending and first when
    descending (so that reversing the order reverses the rows exactly)."""
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
    """One page of `queryset` in (key, id) order, after or before a cursor."""
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
        return encode_cursor(getattr(row, key.field), row.id)

    has_next = more if not backwards else True
    has_prev = (after is not None) if not backwards else more
    return Page(
        rows=rows,
        next_cursor=cursor_of(rows[-1]) if rows and has_next else None,
        prev_cursor=cursor_of(rows[0]) if rows and has_prev else None,
    )
