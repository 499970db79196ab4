"""PostgreSQL's planner statistics, refreshed before a big query that depends on them.

The fan-out's INSERT ... SELECT checks every row against the audience and the rows written so
far through correlated look-ups. With statistics, PostgreSQL plans them as index look-ups or
one hash; without (tables just filled by an import or by the fan-out itself, and autovacuum
not there yet, or turned off) it believes the tables hold a handful of rows and rescans the
whole chunk for every row: 50,000 recipients took more than twenty minutes instead of
seconds. Autovacuum's own rule is used (analyze once a tenth of a table has changed), so on a
database it keeps up with this finds nothing to do. SQLite plans without such statistics."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import connection

logger = logging.getLogger(__name__)

SHARE = 0.1  # autovacuum_analyze_scale_factor's default
LEAST = 500  # rows changed before a table is worth analyzing at all


def statistics_refresh(*, tables: Sequence[str]) -> list[str]:
    """ANALYZE those of `tables` (PostgreSQL) that hold rows but have no statistics yet, or
    whose rows changed by a tenth or more since their last analysis; returns their names.
    (The change counts reach the statistics views a moment late; whether a table has any
    statistics at all, the part whose lack does the harm, is known at once.)"""
    if connection.vendor != "postgresql":
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, COALESCE(s.n_live_tup, 0), COALESCE(s.n_mod_since_analyze, 0)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE n.nspname = current_schema() AND c.relname = ANY(%s)",
            [list(tables)],
        )
        counts = cursor.fetchall()
    stale = []
    for name, live, changed in counts:
        if table_described(name):
            if changed >= max(LEAST, SHARE * live):
                stale.append(name)
        elif _holds_rows(name):
            stale.append(name)
    stale.sort()
    with connection.cursor() as cursor:
        for name in stale:
            cursor.execute(f"ANALYZE {quote(name)}")
    if stale:
        logger.info("planner statistics refreshed: %s", ", ".join(stale))
    return stale


def table_described(table: str) -> bool:
    """Whether PostgreSQL holds planner statistics for the table (in the current schema)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = %s)",
            [table],
        )
        return bool(cursor.fetchone()[0])


def _holds_rows(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
        return bool(cursor.fetchone()[0])
