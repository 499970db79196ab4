"""Issue 12: how each cost grows with the audience. Fan-out, end-to-end send and the SMS Log CSV
export at 10k, 100k and 1M rows (scale shrinks every size), each shown as time per row beside
the raw SQLite work for as many rows in the same run, then the per-row time at the largest
size as a ratio to the smallest: a cost that grows linearly keeps it near 1 (fixed costs such
as starting a process weigh more on few rows, so below 1 is fine). The storage itself does not
stay linear (its raw per-row cost grows as the table and its B-trees outgrow the page cache),
so the figure is that growth against the raw limit's own growth in the same run. Target: at
most 1.5.
Beside it, `added_rows_growth`: the cost of each row added between the two largest sizes over
that between the two smallest, where fixed costs cancel out.

For each size, in one SQLite file: the audience; a broadcast fanned out (`broadcast_fan_out`,
best of three; its rows removed each time); `schoolsms broadcast send` + `schoolsms worker
--until-idle` until every row is Sent with its receipt (as bench_end_to_end); `schoolsms report
sms-log --format csv`. Limits: an executemany insert of the rows (fan-out), that insert plus
the three updates a message goes through (end to end), and reading every message row into a
csv.writer (export).
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_end_to_end import _db_path, e2e_measure  # noqa: E402
from common import Figure, django_setup  # noqa: E402
from pipeline_data import VAR, build_audience, child, setup_database  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
LINEAR_TARGET = 1.5


def _fan_out(count: int) -> float:
    """Seconds to fan a broadcast out to the audience; its rows are removed afterwards."""
    from django.db import connection

    from schoolsms.accounts.models import Organization
    from schoolsms.messaging.dispatch import broadcast_fan_out
    from schoolsms.messaging.models import Broadcast, BroadcastStatus

    broadcast = Broadcast.objects.create(
        organization=Organization.objects.get(slug="bench"),
        name="fan-out",
        text="Bench message",
        status=BroadcastStatus.SENDING,
    )
    started = time.perf_counter()
    created = broadcast_fan_out(broadcast_id=broadcast.pk)
    elapsed = time.perf_counter() - started
    assert created == count, f"fan-out made {created} rows of {count}"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM messaging_message")
    broadcast.delete()
    connection.close()
    return elapsed


def _raw_export() -> float:
    """Every message row, all columns, read and written by csv.writer."""
    con = sqlite3.connect(_db_path())
    started = time.perf_counter()
    with Path(_db_path()).with_suffix(".raw.csv").open("w", newline="") as out:
        cursor = con.execute("SELECT * FROM messaging_message")
        writer = csv.writer(out)
        writer.writerow(d[0] for d in cursor.description)
        writer.writerows(cursor)
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def step_size(count: int) -> dict[str, Any]:
    django_setup()
    setup_database()
    build_audience(count, mps=0)
    # Best of three: a fan-out to 10,000 takes a tenth of a second, which a busy moment on a
    # shared machine can double.
    fan_out = min(_fan_out(count) for _ in range(3))
    out = e2e_measure(count)
    return {**out, "fan_out": fan_out, "raw_export": _raw_export()}


WORKLOADS = (
    # (what, our key, limit, its key)
    ("fan-out", "fan_out", "raw insert", "raw_insert"),
    ("end to end", "ours", "raw insert + 3 updates", "raw"),
    ("SMS Log CSV export", "export", "raw SELECT to csv.writer", "raw_export"),
)


def _micro(seconds: float, count: int) -> float:
    return seconds / count * 1e6


def _added_rows_growth(sizes: list[int], seconds: list[float]) -> float | None:
    """The cost of each row added between the two largest sizes as a ratio to that between the
    two smallest: fixed costs cancel out, so this is near 1 exactly when growth is linear."""
    if len(sizes) < 3:
        return None
    late = (seconds[-1] - seconds[-2]) / (sizes[-1] - sizes[-2])
    early = (seconds[1] - seconds[0]) / (sizes[1] - sizes[0])
    return round(late / early, 2) if early > 0 else None


def run(scale: float) -> list[Figure]:
    sizes = sorted({max(100, int(size * scale)) for size in SIZES})
    outs = {}
    for n in sizes:
        outs[n] = child("bench_growth", "size", n, f"growth-{n}.sqlite3")
        for leftover in VAR.glob(f"growth-{n}.*"):  # a million rows fill a gigabyte or two
            leftover.unlink()
    small, large = sizes[0], sizes[-1]
    figures = []
    for what, key, limit, limit_key in WORKLOADS:
        for n in sizes:
            figures.append(
                Figure(
                    name=f"growth: {what}, {n:,} rows, per row",
                    ours_seconds=_micro(outs[n][key], n),
                    baseline_name=f"{limit} per row",
                    baseline_seconds=_micro(outs[n][limit_key], n),
                    rows=n,
                    unit=" µs",
                )
            )
        ours_growth = _micro(outs[large][key], large) / _micro(outs[small][key], small)
        limit_growth = _micro(outs[large][limit_key], large) / _micro(outs[small][limit_key], small)
        figures.append(
            Figure(
                name=f"growth: {what}, per-row cost at {large:,} rows over at {small:,}",
                ours_seconds=ours_growth,
                baseline_name="the same growth of the raw limit",
                baseline_seconds=limit_growth,
                limit_ratio=LINEAR_TARGET,
                rows=large,
                unit="x",
                extra={
                    "ours_per_row_us": {n: round(_micro(outs[n][key], n), 2) for n in sizes},
                    "added_rows_growth": _added_rows_growth(sizes, [outs[n][key] for n in sizes]),
                },
            )
        )
    return figures


if __name__ == "__main__":
    print(json.dumps(step_size(int(float(sys.argv[2])))))
