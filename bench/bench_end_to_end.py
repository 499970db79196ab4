"""Issue 12: the pipeline the way a user runs it, each figure a ratio to raw SQLite row work.

- end to end: `schoolsms broadcast send` to N opted-in recipients, then
  `schoolsms worker --until-idle` until every row is Sent with its delivery receipt applied
  (simulator, no throttle), against the raw row work for the same messages: an executemany
  insert of N rows of the message table's width, then one executemany update per state change
  a message goes through (claim, sent, delivered), same file settings. Target <= 5.
- first text: with a worker already running, the time from `broadcast send` to the first
  message handed to the carrier, for 1,000,000 recipients as a ratio to 1,000. Target <= 1.5.
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


def step_first(count: int) -> dict[str, Any]:
    """Seconds from `broadcast send` to the first message the simulator accepted."""
    django_setup()
    setup_database()
    build_audience(count, mps=0)
    from django.db import connection

    from schoolsms.carriers.simulator.models import SimulatedMessage

    table = SimulatedMessage._meta.db_table
    connection.close()
    worker = subprocess.Popen([*CLI, "worker"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)  # the worker is up and idle
        con = sqlite3.connect(_db_path(), timeout=30)
        started = time.perf_counter()
        subprocess.Popen(
            [*CLI, "broadcast", "send", "--org", "bench", "--name", "First", "--message", "Go"],
            stdout=subprocess.DEVNULL,
        )
        while True:
            found = con.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
            if found:
                break
            if time.perf_counter() - started > 600:
                raise TimeoutError("no message reached the carrier in 10 minutes")
            time.sleep(0.005)
        first = time.perf_counter() - started
        con.close()
    finally:
        worker.terminate()
        worker.wait(30)
    return {"count": count, "first": first}


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
    small = child("bench_end_to_end", "first", 1_000, "first-small.sqlite3")
    large = child("bench_end_to_end", "first", 1_000_000 * scale, "first-large.sqlite3")
    figures.append(
        Figure(
            name=f"first text leaves, {large['count']:,} recipients vs 1,000",
            ours_seconds=large["first"],
            baseline_name="the same for 1,000 recipients",
            baseline_seconds=small["first"],
            limit_ratio=1.5,
            rows=large["count"],
        )
    )
    return figures


if __name__ == "__main__":
    step, value = sys.argv[1], int(float(sys.argv[2]))
    result = step_e2e(value) if step == "e2e" else step_first(value)
    print(json.dumps(result))
