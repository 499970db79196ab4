"""Issue 12: the pipeline the way a user runs it, each figure a ratio to raw SQLite row work.

- end to end: `schoolsms broadcast send` to N opted-in recipients, then
  `schoolsms worker --until-idle` until every row is Sent with its delivery receipt applied
  (simulator, no throttle), against the raw row work for the same messages: an executemany
  insert of N rows of the message table's width, then one executemany update per state change
  a message goes through (claim, sent, delivered), same file settings. Target <= 5.
- (the first text, with a worker already running: bench_first_text.py)
(How these costs grow with the audience is bench_growth's.)
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure, django_setup  # noqa: E402
from pipeline_data import build_audience, child, setup_database  # noqa: E402

CLI = [sys.executable, "-m", "schoolsms"]


def _db_path() -> str:
    return os.environ["DATABASE_URL"].removeprefix("sqlite:///")


def _cli(*args: str) -> str:
    return subprocess.run([*CLI, *args], check=True, capture_output=True, text=True).stdout


def _raw_row_work(count: int) -> dict[str, float]:
    """Insert `count` rows as wide as messaging_message, then update them three times: the
    seconds of it all ("raw") and of the insert alone ("raw_insert")."""
    con = sqlite3.connect(_db_path(), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    columns = [row[1] for row in con.execute("PRAGMA table_info(messaging_message)")][1:]
    con.execute("DROP TABLE IF EXISTS bench_raw")
    con.execute(
        "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, "
        + ", ".join(f"{c} TEXT" for c in columns)
        + ")"
    )
    insert = (
        f"INSERT INTO bench_raw ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    rows = [tuple(f"{c}-{i}" for c in columns) for i in range(count)]
    started = time.perf_counter()
    steps = []
    for sql, params in (
        (insert, rows),
        ("UPDATE bench_raw SET result = 'sending', claimed_at = ? WHERE id = ?", None),
        (
            "UPDATE bench_raw SET result = 'sent', carrier_message_id = ?, sent_at = ? "
            "WHERE id = ?",
            None,
        ),
        ("UPDATE bench_raw SET delivered_at = ? WHERE id = ?", None),
    ):
        con.execute("BEGIN")
        if params is None:
            width = sql.count("?")
            params = [(*(["x"] * (width - 1)), i) for i in range(1, count + 1)]
        con.executemany(sql, params)
        con.execute("COMMIT")
        steps.append(time.perf_counter() - started)
    con.execute("DROP TABLE bench_raw")
    con.close()
    return {"raw": steps[-1], "raw_insert": steps[0]}


def step_e2e(count: int) -> dict[str, Any]:
    django_setup()
    setup_database()
    build_audience(count, mps=0)
    return e2e_measure(count)


def e2e_measure(count: int) -> dict[str, Any]:
    """Send a broadcast to the `count` contacts already in the database, the way a user does,
    export its SMS Log as CSV; the raw row work for as many rows beside them."""
    from django.db import connection

    connection.close()
    started = time.perf_counter()
    _cli("broadcast", "send", "--org", "bench", "--name", "Bench", "--message", "Bench message")
    _cli("worker", "--until-idle")
    ours = time.perf_counter() - started
    from schoolsms.messaging.models import Message

    done = Message.objects.filter(result="sent", delivered_at__isnull=False).count()
    assert done == count, f"{done} of {count} rows Sent with a receipt"
    export = Path(_db_path()).with_suffix(".csv")
    started = time.perf_counter()
    _cli("report", "sms-log", "--org", "bench", "--format", "csv", "--output", str(export))
    export_seconds = time.perf_counter() - started
    connection.close()
    return {"count": count, "ours": ours, "export": export_seconds, **_raw_row_work(count)}


def run(scale: float) -> list[Figure]:
    figures = []
    e2e = child("bench_end_to_end", "e2e", 100_000 * scale, "e2e.sqlite3")
    figures.append(
        Figure(
            name=f"end to end, broadcast send + worker --until-idle, {e2e['count']:,} recipients",
            ours_seconds=e2e["ours"],
            baseline_name="raw insert + 3 updates",
            baseline_seconds=e2e["raw"],
            limit_ratio=5.0,
            rows=e2e["count"],
        )
    )
    return figures


if __name__ == "__main__":
    print(json.dumps(step_e2e(int(float(sys.argv[2])))))
