"""Issue 12: three `schoolsms worker` processes send one broadcast together on PostgreSQL.

- speed-up: a 50,000-recipient broadcast, the carrier slow (the simulator takes 50 ms a
  request), sent by three workers against one worker sending the same broadcast. The sender's
  limit (1,000/s) is set so that one worker, waiting 50 ms for each chunk of limit/50
  messages, stays under it (at most 20 chunks a second): one worker is held back by the
  carrier, not the limit. Target: one worker's sending time at least 1.5 times the three's.
  Sending time runs from the first message at the carrier to the last; the workers' start-up
  (a few seconds whatever the audience) and the wall time of each run, from starting the
  workers to the last receipt applied, are beside it.
- the limit: a 10,000-recipient broadcast from a sender limited to 300/s, sent by three
  workers, the carrier without delay (unthrottled, three workers send faster than that, so
  they must share the limit): the most messages the carrier received in any one second must
  stay at or under it; the carrier's rate beside it says how close they came. The
  slow-carrier runs are checked against their limit too.

Every run also checks that every row ends in one final result (Sent, its receipt applied),
that the carrier got every message once and that no number got the text twice; a run that
does not fails its figures.

The workers are long-running `schoolsms worker` processes (as in production), stopped once
every receipt is applied. Not `--until-idle`: a worker started with it beside others may find
nothing to take while another one fans the broadcast out, and exit at once.

Each run starts from a fresh database (BENCH_WORKERS_PG; dropped and created again: give it a
database of its own); without PostgreSQL the figures are marked SKIPPED.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
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
SPEED_UP_TARGET = 1.5


@dataclass(frozen=True)
class Run:
    workers: int
    mps: int
    latency: float  # seconds a carrier request takes
    recipients: int  # at scale 1

    def count(self, scale: float) -> int:
        return max(int(self.recipients * scale), 2_000)


RUNS = {
    "one": Run(workers=1, mps=1_000, latency=0.05, recipients=50_000),
    "three": Run(workers=3, mps=1_000, latency=0.05, recipients=50_000),
    "throttled": Run(workers=3, mps=300, latency=0.0, recipients=10_000),
}
TIMEOUT = 3_600
CLI = [sys.executable, "-m", "schoolsms"]


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


def _done(count: int) -> bool:
    """Every row Sent with its receipt applied (the scenario fails nothing)."""
    from schoolsms.messaging.models import Message

    return Message.objects.filter(result="sent", delivered_at__isnull=False).count() >= count


def step_send(scale: float, run: Run) -> dict[str, Any]:
    """In a fresh database: the audience, `schoolsms broadcast send`, then the run's worker
    processes until every row is Sent with its receipt applied; then they are stopped."""
    django_setup()
    setup_database()
    count = run.count(scale)
    build_audience(count, mps=run.mps)
    from django.db import connection

    from schoolsms.messaging.models import Broadcast

    connection.close()
    subprocess.run(
        [*CLI, "broadcast", "send", "--org", "bench", "--name", "Bench", "--message", "Bench"],
        check=True,
        capture_output=True,
    )
    env = dict(os.environ, SCHOOLSMS_SIMULATOR_LATENCY=str(run.latency))
    started, wall_start = time.perf_counter(), time.time()
    processes = [
        subprocess.Popen([*CLI, "worker", "--interval", "0.05", "--worker-id", f"w{i}"], env=env)
        for i in range(run.workers)
    ]
    problems = []
    try:
        while not _done(count):
            if time.perf_counter() - started > TIMEOUT:
                problems.append(f"not done after {TIMEOUT} s")
                break
            if any(p.poll() is not None for p in processes):
                problems.append(f"a worker exited: {[p.poll() for p in processes]}")
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
    problems += _problems(Broadcast.objects.get(), count)
    stamps = carrier_stamps()
    span = stamps[-1] - stamps[0] if stamps else 0.0
    peak = peak_per_second(stamps)
    if peak > run.mps:
        problems.append(f"{peak} messages in one second, over the limit of {run.mps}")
    return {
        "count": count,
        "elapsed": elapsed,
        "peak_1s": peak,
        "sending": span,
        "carrier_msg_per_s": round(len(stamps) / span, 1) if span else None,
        "first_sent_after": round(stamps[0] - wall_start, 2) if stamps else None,
        "problems": problems,
    }


def run(scale: float) -> list[Figure]:
    slow, throttled = RUNS["three"], RUNS["throttled"]
    names = (
        f"{slow.count(scale):,}-recipient broadcast, carrier 50 ms a request, sending time: "
        "3 workers vs 1 (PostgreSQL)",
        f"3 workers, {throttled.count(scale):,} recipients: most messages at the carrier in any "
        f"second vs the limit ({throttled.mps:,}/s)",
    )
    out: dict[str, Any] = {}
    for key in RUNS:
        unreachable = pg_database(PG_URL, fresh=True)
        if unreachable:
            print(f"   {unreachable}; skipping", flush=True)
            return [Figure(name=n, ours_seconds=0, skipped=unreachable) for n in names]
        out[key] = child("bench_workers", key, scale, "", database_url=PG_URL)
    one, three, limited = out["one"], out["three"], out["throttled"]
    problems = [f"{key}: {p}" for key, o in out.items() for p in o["problems"]]
    return [
        Figure(
            name=names[0],
            ours_seconds=three["sending"],
            baseline_name="1 worker, the same broadcast",
            baseline_seconds=one["sending"],
            limit_ratio=round(1 / SPEED_UP_TARGET, 2),
            rows=slow.count(scale),
            extra={
                "speed_up": round(one["sending"] / three["sending"], 2),
                "wall_seconds_1_worker": round(one["elapsed"], 1),
                "wall_seconds_3_workers": round(three["elapsed"], 1),
                "wall_speed_up": round(one["elapsed"] / three["elapsed"], 2),
                "first_sent_after_start": [one["first_sent_after"], three["first_sent_after"]],
                "carrier_msg_per_s_1_worker": one["carrier_msg_per_s"],
                "carrier_msg_per_s_3_workers": three["carrier_msg_per_s"],
                "peak_1s_1_worker": one["peak_1s"],
                "peak_1s_3_workers": three["peak_1s"],
            },
            problems=problems,
        ),
        Figure(
            name=names[1],
            ours_seconds=limited["peak_1s"],
            baseline_name="the sender's limit",
            baseline_seconds=throttled.mps,
            limit_ratio=1.0,
            rows=throttled.count(scale),
            unit=" msg",
            extra={
                # Near the limit: the three were held back by it (the check meant something).
                "carrier_msg_per_s": limited["carrier_msg_per_s"],
                "wall_seconds": round(limited["elapsed"], 1),
            },
            problems=problems,
        ),
    ]


if __name__ == "__main__":
    key, scale_arg = sys.argv[1], float(sys.argv[2])
    print(json.dumps(step_send(scale_arg, RUNS[key])))
