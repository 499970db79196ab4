"""Issue 12, the first text leaves at once, whatever the audience: with a `schoolsms worker`
already running (SQLite, the simulator, no throttle), the time from starting
`schoolsms broadcast send` to the first message handed to the carrier (the simulator's own
timestamp of the first message it accepted), for 1,000,000 recipients as a ratio to the same
for 1,000 recipients. Target <= 1.5.

Each size has its own database and worker. The broadcast is sent ROUNDS times; each is
canceled once its first text is out and the worker left to go quiet before the next. The
figure is median against median (every run is reported beside it). `--scale` shrinks the big
audience only (0.01: 10,000 recipients), the 1,000 stays.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import statistics
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
ROUNDS = int(os.environ.get("BENCH_FIRST_TEXT_ROUNDS", "3"))
SMALL = 1_000
TIMEOUT = 600.0


def _wait(what: str, done: Any, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := done()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f}s for {what}")
        time.sleep(0.02)
    return found


def _quiet(con: sqlite3.Connection) -> bool:
    """The worker is up (it has beaten once) and has no task waiting or running."""
    beats = con.execute("SELECT COUNT(*) FROM operations_workerheartbeat").fetchone()[0]
    busy = con.execute(
        "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult "
        "WHERE status IN ('READY', 'RUNNING')"
    ).fetchone()[0]
    return bool(beats) and not busy


def _carrier_time(stamp: str) -> float:
    """The simulator's created_at (UTC, as Django stores it in SQLite) as epoch seconds."""
    return dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.UTC).timestamp()


def step(count: int) -> dict[str, Any]:
    """Seconds from `broadcast send` to the first text at the carrier, ROUNDS times."""
    django_setup()
    setup_database()
    build_audience(count, mps=0)
    from django.db import connection

    from schoolsms.carriers.simulator.models import SimulatedMessage

    table = SimulatedMessage._meta.db_table
    db = connection.settings_dict["NAME"]
    connection.close()
    worker = subprocess.Popen([*CLI, "worker"], stderr=subprocess.DEVNULL)
    times = []
    try:
        con = sqlite3.connect(db, timeout=60, isolation_level=None)
        _wait("the worker to start", lambda: _quiet(con))
        for round_ in range(ROUNDS):
            before = con.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
            started = time.time()
            name = f"First {round_}"
            sent = subprocess.run(
                [*CLI, "broadcast", "send", "--org", "bench", "--name", name, "--message", "Go"],
                check=True,
                capture_output=True,
                text=True,
            )
            query = f"SELECT MIN(created_at) FROM {table} WHERE id > {int(before)}"
            first = _wait(
                "the first text to reach the carrier",
                lambda query=query: con.execute(query).fetchone()[0],
            )
            times.append(_carrier_time(first) - started)
            # (A small broadcast may be Complete already, and refuse the cancel.)
            subprocess.run(
                [*CLI, "broadcast", "cancel", sent.stdout.strip()], check=False, capture_output=True
            )
            _wait("the worker to go quiet after the cancel", lambda: _quiet(con))
        con.close()
    finally:
        worker.terminate()
        worker.wait(60)
    return {"count": count, "first": times}


def run(scale: float) -> list[Figure]:
    small = child("bench_first_text", "first", SMALL, "first-small.sqlite3")
    large = child(
        "bench_first_text", "first", max(SMALL, int(1_000_000 * scale)), "first-large.sqlite3"
    )
    return [
        Figure(
            name=f"first text leaves, {large['count']:,} recipients vs {SMALL:,}, "
            f"median of {len(large['first'])}",
            ours_seconds=statistics.median(large["first"]),
            baseline_name=f"the same for {SMALL:,} recipients",
            baseline_seconds=statistics.median(small["first"]),
            limit_ratio=1.5,
            rows=large["count"],
            extra={
                "large_runs": [round(t, 3) for t in large["first"]],
                "small_runs": [round(t, 3) for t in small["first"]],
            },
        )
    ]


if __name__ == "__main__":
    # `python bench/bench_first_text.py first COUNT` (as bench/run.py's child runs it).
    print(json.dumps(step(int(float(sys.argv[2])))))
