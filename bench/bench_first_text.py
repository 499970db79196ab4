"""Issue 12, the first text leaves at once, whatever the audience: with a `schoolsms worker`
already running (SQLite, the simulator, no throttle), the time from starting
`schoolsms broadcast send` to the first message handed to the carrier (the simulator's own
timestamp of the first message it accepted), for 1,000,000 recipients as a ratio to the same
for 1,000 recipients. Target <= 1.5.

Each size has its own database and its own worker, both running throughout. The broadcast is
sent ROUNDS times to each, the sizes taking turns (so a busy spell of a shared machine falls on
both); each is canceled once its first text is out, and its worker left to go quiet before the
next. The figure is median against median (every run is reported beside it). `--scale` shrinks
the big audience only (0.01: 10,000 recipients); the 1,000 stays.
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
from pipeline_data import build_audience, child, child_env, setup_database  # noqa: E402

CLI = [sys.executable, "-m", "schoolsms"]
ROUNDS = int(os.environ.get("BENCH_FIRST_TEXT_ROUNDS", "3"))
SMALL = 1_000
TIMEOUT = 600.0
CARRIER = "carrier_simulator_simulatedmessage"


def build(count: int) -> dict[str, Any]:
    """A database with `count` opted-in recipients (run as a child, on its own file)."""
    django_setup()
    setup_database()
    build_audience(count, mps=0)
    from django.db import connection

    return {"count": count, "db": connection.settings_dict["NAME"]}


def _wait(what: str, done: Any, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := done()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f}s for {what}")
        time.sleep(0.02)
    return found


class Audience:
    """One size: its database, and a `schoolsms worker` running on it."""

    def __init__(self, built: dict[str, Any]) -> None:
        self.count: int = built["count"]
        self.env = child_env(f"sqlite:///{built['db']}")
        self.db = sqlite3.connect(built["db"], timeout=60, isolation_level=None)
        self.worker = subprocess.Popen(
            [*CLI, "worker"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.times: list[float] = []

    def quiet(self) -> bool:
        """The worker is up (it has beaten once) and has no task waiting or running."""
        beats = self.db.execute("SELECT COUNT(*) FROM operations_workerheartbeat").fetchone()[0]
        busy = self.db.execute(
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult "
            "WHERE status IN ('READY', 'RUNNING')"
        ).fetchone()[0]
        return bool(beats) and not busy

    def cli(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [*CLI, *args], env=self.env, check=check, capture_output=True, text=True
        )
        return done.stdout

    def measure(self, name: str) -> None:
        """Send the broadcast; note the seconds until the carrier had its first text."""
        before = self.db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {CARRIER}").fetchone()[0]
        query = f"SELECT MIN(created_at) FROM {CARRIER} WHERE id > {int(before)}"
        started = time.time()
        broadcast = self.cli(
            "broadcast", "send", "--org", "bench", "--name", name, "--message", "Go"
        )
        first = _wait(
            "the first text to reach the carrier", lambda: self.db.execute(query).fetchone()[0]
        )
        # The simulator's created_at: UTC, as Django keeps it in SQLite.
        at = dt.datetime.fromisoformat(first).replace(tzinfo=dt.UTC).timestamp()
        self.times.append(at - started)
        # (A small broadcast may be Complete already, and refuse the cancel.)
        self.cli("broadcast", "cancel", broadcast.strip(), check=False)
        _wait("the worker to go quiet after the cancel", self.quiet)

    def close(self) -> None:
        self.worker.terminate()
        self.worker.wait(60)
        self.db.close()


def run(scale: float) -> list[Figure]:
    small = child("bench_first_text", "build", SMALL, "first-small.sqlite3")
    large = child(
        "bench_first_text", "build", max(SMALL, int(1_000_000 * scale)), "first-large.sqlite3"
    )
    sizes = [Audience(small), Audience(large)]
    try:
        for size in sizes:
            _wait("the worker to start", size.quiet)
        for round_ in range(ROUNDS):
            for size in sizes if round_ % 2 == 0 else sizes[::-1]:
                size.measure(f"First {round_}")
    finally:
        for size in sizes:
            size.close()
    few, many = sizes
    return [
        Figure(
            name=f"first text leaves, {many.count:,} recipients vs {few.count:,}, "
            f"median of {len(many.times)}",
            ours_seconds=statistics.median(many.times),
            baseline_name=f"the same for {few.count:,} recipients",
            baseline_seconds=statistics.median(few.times),
            limit_ratio=1.5,
            rows=many.count,
            extra={
                "large_runs": [round(t, 3) for t in many.times],
                "small_runs": [round(t, 3) for t in few.times],
            },
        )
    ]


if __name__ == "__main__":
    # `python bench/bench_first_text.py build COUNT`, as bench/run.py's child runs it.
    print(json.dumps(build(int(float(sys.argv[2])))))
