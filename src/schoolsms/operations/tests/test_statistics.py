"""Planner statistics before the fan-out's big INSERT ... SELECT (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from schoolsms.operations.statistics import statistics_refresh, table_described

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps no planner statistics to refresh"
)


@on_postgresql
def test_a_filled_table_without_statistics_is_analyzed_once() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE probe_filled (id integer, phone text)")
        cursor.execute(
            "INSERT INTO probe_filled SELECT g, '+1217555' || g FROM generate_series(1, 2000) g"
        )
        cursor.execute("CREATE TABLE probe_empty (id integer)")
    assert not table_described("probe_filled")
    assert statistics_refresh(tables=["probe_filled", "probe_empty", "no_such_table"]) == [
        "probe_filled"
    ]
    assert table_described("probe_filled") and not table_described("probe_empty")
    # Described now, and nothing changed since: nothing to do.
    assert statistics_refresh(tables=["probe_filled", "probe_empty"]) == []


def test_sqlite_has_nothing_to_refresh() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL: see the tests above")
    assert statistics_refresh(tables=["contacts_contact"]) == []
