"""Plain executemany INSERT and UPDATE for imports: the ORM's bulk_create and bulk_update
spend most of a large import building SQL, and these rows need none of their machinery."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

CHUNK = 2000
T = TypeVar("T")
Row = tuple[Any, ...]  # values for one executemany row, in column order


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _columns(model: type[Model], names: Sequence[str]) -> list[str]:
    columns = {f.name: f.column for f in model._meta.concrete_fields}
    return [connection.ops.quote_name(str(columns[name])) for name in names]


def insert(model: type[Model], names: Sequence[str], rows: Sequence[Row]) -> None:
    columns = _columns(model, names)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for chunk in chunks(rows):
            cursor.executemany(sql, chunk)


def update(model: type[Model], names: Sequence[str], rows: Sequence[Row]) -> None:
    """Rows are the new values in `names` order followed by the primary key."""
    assignments = ", ".join(f"{c} = %s" for c in _columns(model, names))
    sql = (
        f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {assignments} "
        f"WHERE {_columns(model, ['id'])[0]} = %s"
    )
    with connection.cursor() as cursor:
        for chunk in chunks(rows):
            cursor.executemany(sql, chunk)
