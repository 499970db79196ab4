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

from django.db.models import F, Q, QuerySet


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


def _seek(key: SortKey, descending: bool, value: Any, row_id: int) -> Q:
    """Rows strictly after (value, row_id) in the order `descending`, NULLs last when ascending
    and first when descending (so that reversing an order reverses the rows exactly)."""
    col = key.field
    gt, id_gt = ("lt", "lt") if descending else ("gt", "gt")
    if value is None:
        # At the NULL block: ascending puts it last, descending first.
        nulls_tail = Q(**{f"{col}__isnull": True, f"id__{id_gt}": row_id})
        return nulls_tail if not descending else nulls_tail | Q(**{f"{col}__isnull": False})
    seek = Q(**{f"{col}__{gt}": value}) | Q(**{col: value, f"id__{id_gt}": row_id})
    if key.nullable and not descending:
        seek |= Q(**{f"{col}__isnull": True})
    if not key.nullable:
        # An extra plain bound the database can use as the start of an index range scan.
        seek &= Q(**{f"{col}__{gt}e": value})
    return seek


def _ordering(key: SortKey, descending: bool) -> list[Any]:
    if descending:
        return [F(key.field).desc(nulls_first=True), F("id").desc()]
    return [F(key.field).asc(nulls_last=True), F("id").asc()]


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
    qs = queryset
    if after is not None:
        qs = qs.filter(_seek(key, descending, *decode_cursor(after, key)))
    elif before is not None:
        qs = qs.filter(_seek(key, not descending, *decode_cursor(before, key)))
    order_desc = descending != backwards
    rows = list(qs.order_by(*_ordering(key, order_desc))[: size + 1])
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
