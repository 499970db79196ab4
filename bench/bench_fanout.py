"""Fan-out speed (issue 3): dispatching a broadcast to 1,000,000 recipients on SQLite (message
rows with eligibility and duplicate detection, in one INSERT ... SELECT) against a plain
`executemany` insert of the same number of rows into a table of the same width, same run.
Target: at most 1.5x.

The machine is shared and noisy, so both sides run ROUNDS times, interleaved (which one goes
first alternates), each on an empty table with the WAL checkpointed beforehand; the figure is
best against best, and the medians are reported beside it.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure, django_setup  # noqa: E402
from pipeline_data import build_audience, child, setup_database  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_FANOUT_ROUNDS", "3"))


def _fan_out(count: int) -> dict[str, Any]:
    django_setup()
    setup_database()
    from django.db import connection
    from django.utils import timezone

    from schoolsms.messaging.dispatch import broadcast_fan_out
    from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message

    org = build_audience(count, mps=0)

    # The baseline: the same columns as messaging_message, no indexes, rows made beforehand.
    columns = [str(f.column) for f in Message._meta.concrete_fields if f.column != "id"]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    row = {
        "phone": None,
        "result": "not_sent_yet",
        "reason": "",
        "carrier_code": "",
        "carrier_message_id": None,
        "attempts": 0,
        "next_attempt_at": None,
        "claimed_at": None,
        "created_at": now,
        "sent_at": None,
        "delivered_at": None,
        "language": "en",
        "updated_at": now,
        "broadcast_id": 0,
        "organization_id": org.pk,
        "sender_id": org.sender_id,
        "contact_id": None,
    }
    types = {f.column: f.db_type(connection) for f in Message._meta.concrete_fields}
    rows = [
        tuple(
            (
                f"+1{201 + i % 700}{i // 700:07d}"
                if c == "phone"
                else i
                if c == "contact_id"
                else row[c]
            )
            for c in columns
        )
        for i in range(1, count + 1)
    ]
    connection.ensure_connection()
    raw = connection.connection
    cur = raw.cursor()
    create_plain = (
        "CREATE TABLE bench_plain (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
        + ", ".join(f"{c} {types[c]}" for c in columns)
        + ")"
    )
    insert_plain = (
        f"INSERT INTO bench_plain ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )

    def fresh() -> None:
        cur.execute("DELETE FROM messaging_message")
        cur.execute("DROP TABLE IF EXISTS bench_plain")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def ours() -> float:
        broadcast = Broadcast.objects.create(
            organization=org, name="bench", text="Bench message", status=BroadcastStatus.SENDING
        )
        started = time.perf_counter()
        created = broadcast_fan_out(broadcast_id=broadcast.pk)
        elapsed = time.perf_counter() - started
        assert created == count, created
        return elapsed

    def baseline() -> float:
        cur.execute(create_plain)
        started = time.perf_counter()
        cur.execute("BEGIN")
        cur.executemany(insert_plain, rows)
        cur.execute("COMMIT")
        return time.perf_counter() - started

    ours_times: list[float] = []
    baseline_times: list[float] = []
    for round_ in range(ROUNDS):
        sides = [(ours, ours_times), (baseline, baseline_times)]
        for measure, times in sides if round_ % 2 == 0 else sides[::-1]:
            fresh()
            times.append(measure())
    fresh()
    return {
        "count": count,
        "ours": ours_times,
        "baseline": baseline_times,
        "columns": len(columns) + 1,
    }


def run(scale: float) -> list[Figure]:
    out = child("bench_fanout", "fanout", scale, "fanout.sqlite3")
    ours, baseline = out["ours"], out["baseline"]
    median_ours, median_baseline = statistics.median(ours), statistics.median(baseline)
    return [
        Figure(
            name=f"fan-out to {out['count']:,} recipients (SQLite), best of {len(ours)}",
            ours_seconds=min(ours),
            baseline_name=f"executemany of {out['count']:,} rows, {out['columns']} columns",
            baseline_seconds=min(baseline),
            limit_ratio=1.5,
            rows=out["count"],
            extra={
                "median_ours": round(median_ours, 3),
                "median_baseline": round(median_baseline, 3),
                "median_ratio": round(median_ours / median_baseline, 3),
                "ours_runs": [round(t, 3) for t in ours],
                "baseline_runs": [round(t, 3) for t in baseline],
            },
        )
    ]


if __name__ == "__main__":
    print(json.dumps(_fan_out(max(int(1_000_000 * float(sys.argv[2])), 1_000))))
