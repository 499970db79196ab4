"""Issue 12: three `schoolsms worker` processes send one 50,000-recipient broadcast together
on PostgreSQL, against one worker sending the same broadcast, the carrier slow (the simulator
takes 50 ms a request).

The sender's limit (MPS) is set so that both checks mean something: one worker, waiting 50 ms
for each chunk of MPS/50 messages, cannot reach it (at most 20 chunks a second), three would
pass it without the throttle. So the three must be faster than one (target: one worker's time
at least 1.5 times theirs) and must still keep every one-second window at the carrier within
the limit. The speed-up is the sending time, from the first message at the carrier to the
last (the workers' start-up, a few seconds whatever the audience, and the receipts applied
afterwards are beside it, with the wall time of each run). Each run also checks that every
row ends in one final result (Sent, its receipt applied), that the carrier got every message
once and that no number got the text twice.

Each run starts from a fresh database (BENCH_WORKERS_PG; dropped and created again: give it a
database of its own); without PostgreSQL the figures are marked SKIPPED.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure, django_setup, pg_database  # noqa: E402
from pipeline_data import (  # noqa: E402
    build_audience,
    carrier_stamps,
    child,
    peak_per_second,
    results_count,
    setup_database,
)

PG_URL = os.environ.get(
    "BENCH_WORKERS_PG", "postgres://postgres@127.0.0.1:5432/schoolsms_bench_workers"
)
LATENCY = 0.05
MPS = 1_000
SPEED_UP_TARGET = 1.5
CLI = [sys.executable, "-m", "schoolsms"]


def _count(scale: float) -> int:
    return max(int(50_000 * scale), 3_000)


def _problems(broadcast: Any, count: int) -> list[str]:
    """What went wrong, in words: rows without one final result, messages or numbers the
    carrier got more than once (or never)."""
    from django.db.models import Count

    from schoolsms.carriers.simulator.models import SimulatedMessage
    from schoolsms.messaging.models import Message

    problems = []
    results = results_count(broadcast)
    if results != {"sent": count}:
        problems.append(f"rows by result {results}, expected all {count} Sent")
    waiting = Message.objects.filter(broadcast=broadcast, delivered_at__isnull=True).count()
    if waiting:
        problems.append(f"{waiting} rows without their delivery receipt")
    carried = SimulatedMessage.objects.filter(message_ref__isnull=False)
    for column, what in (("message_ref", "messages"), ("to", "numbers")):
        twice = carried.values(column).annotate(n=Count("id")).filter(n__gt=1).count()
        if twice:
            problems.append(f"{twice} {what} sent more than once")
    reached = carried.values("to").distinct().count()
    if reached != count:
        problems.append(f"the carrier got {reached} numbers of {count}")
    return problems


def step_send(scale: float, workers: int) -> dict[str, Any]:
    """In a fresh database: the audience, `schoolsms broadcast send`, then `workers`
    processes of `schoolsms worker --until-idle` until all have exited."""
    django_setup()
    setup_database()
    count = _count(scale)
    build_audience(count, mps=MPS)
    from django.db import connection

    from schoolsms.messaging.models import Broadcast

    connection.close()
    subprocess.run(
        [*CLI, "broadcast", "send", "--org", "bench", "--name", "Bench", "--message", "Bench"],
        check=True,
        capture_output=True,
    )
    env = dict(os.environ, SCHOOLSMS_SIMULATOR_LATENCY=str(LATENCY))
    started, wall_start = time.perf_counter(), time.time()
    processes = [
        subprocess.Popen([*CLI, "worker", "--until-idle", "--worker-id", f"w{i}"], env=env)
        for i in range(workers)
    ]
    codes = [p.wait() for p in processes]
    elapsed = time.perf_counter() - started
    broadcast = Broadcast.objects.get()
    problems = _problems(broadcast, count)
    if any(codes):
        problems.append(f"workers exited with {codes}")
    stamps = carrier_stamps()
    span = stamps[-1] - stamps[0] if stamps else 0.0
    return {
        "count": count,
        "elapsed": elapsed,
        "peak_1s": peak_per_second(stamps),
        "sending": span,
        "carrier_msg_per_s": round(len(stamps) / span, 1) if span else None,
        "first_sent_after": round(stamps[0] - wall_start, 2) if stamps else None,
        "problems": problems,
    }


def run(scale: float) -> list[Figure]:
    count = _count(scale)
    names = (
        f"{count:,}-recipient broadcast, carrier 50 ms a request, sending time: "
        "3 workers vs 1 (PostgreSQL)",
        f"3 workers: most messages at the carrier in any second vs the limit ({MPS:,}/s)",
    )
    unreachable = pg_database(PG_URL, fresh=True)
    if unreachable:
        print(f"   {unreachable}; skipping", flush=True)
        return [Figure(name=n, ours_seconds=0, skipped=unreachable) for n in names]
    one = child("bench_workers", "1", scale, "", database_url=PG_URL)
    pg_database(PG_URL, fresh=True)
    three = child("bench_workers", "3", scale, "", database_url=PG_URL)
    problems = [f"1 worker: {p}" for p in one["problems"]]
    problems += [f"3 workers: {p}" for p in three["problems"]]
    return [
        Figure(
            name=names[0],
            ours_seconds=three["sending"],
            baseline_name="1 worker, the same broadcast",
            baseline_seconds=one["sending"],
            limit_ratio=round(1 / SPEED_UP_TARGET, 2),
            rows=count,
            extra={
                "speed_up": round(one["sending"] / three["sending"], 2),
                "wall_seconds_1_worker": round(one["elapsed"], 1),
                "wall_seconds_3_workers": round(three["elapsed"], 1),
                "wall_speed_up": round(one["elapsed"] / three["elapsed"], 2),
                "first_sent_after_start": [one["first_sent_after"], three["first_sent_after"]],
                "carrier_msg_per_s_1_worker": one["carrier_msg_per_s"],
                "carrier_msg_per_s_3_workers": three["carrier_msg_per_s"],
            },
            problems=problems,
        ),
        Figure(
            name=names[1],
            ours_seconds=three["peak_1s"],
            baseline_name="the sender's limit",
            baseline_seconds=MPS,
            limit_ratio=1.0,
            rows=count,
            unit=" msg",
            extra={"peak_1s_1_worker": one["peak_1s"], "peak_1s_3_workers": three["peak_1s"]},
            problems=problems,
        ),
    ]


if __name__ == "__main__":
    workers_arg, scale_arg = int(sys.argv[1]), float(sys.argv[2])
    print(json.dumps(step_send(scale_arg, workers_arg)))
