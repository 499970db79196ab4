"""Issue 13: a Twilio short code's rate with slow requests. The sender is limited to 100
messages per second; the fake Twilio API (in a process of its own, as Twilio is far from the
worker) takes 100 ms to answer each create, so one blocking connection would give 10/s.
2,000 messages (scale 1) through the whole pipeline with one worker on SQLite; the sustained
rate (from the first chunk the fake took to the last) must reach at least 90% of the limit,
and no one-second window may hold more than the limit.

BENCH_TWILIO_LATENCY sets the fake's seconds per create (default 0.1; Twilio's own are nearer
0.3).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure, django_setup  # noqa: E402
from pipeline_data import (  # noqa: E402
    broadcast_dispatched,
    build_audience,
    child,
    peak_per_second,
    results_count,
    setup_database,
)

MPS = 100  # a short code
# Seconds the fake Twilio API takes to answer each create.
LATENCY = float(os.environ.get("BENCH_TWILIO_LATENCY") or 0.1)
SHARE = 0.9  # of the limit, at least
ACCOUNT, TOKEN = "AC" + "7c" * 16, "bench-token-0123456789abcdef"


def _count(scale: float) -> int:
    return max(int(2_000 * scale), 400)


def _serve_fake() -> None:
    """Step run in its own process: the fake Twilio API; prints its URL, then, once its
    input closes, when it took each create (time.monotonic) and the most at once."""
    from schoolsms.carriers.twilio.tests.fake_twilio import FakeTwilio

    with FakeTwilio(
        accounts={ACCOUNT: TOKEN}, latency=LATENCY, callbacks=False, progress=False
    ) as fake:
        print(fake.url, flush=True)
        sys.stdin.read()
    print(json.dumps({"create_times": fake.create_times, "most_in_flight": fake.most_in_flight}))


def _send(count: int) -> dict[str, Any]:
    """Step run in a child with its own database: the broadcast sent through the fake."""
    django_setup()
    setup_database()
    from django.conf import settings

    from schoolsms.carriers.services import sender_gateway_configure
    from schoolsms.carriers.twilio.transport import concurrency_for
    from schoolsms.messaging.models import Message
    from schoolsms.messaging.throttle import throttle_chunk
    from schoolsms.messaging.workers.configured import pipeline_worker

    fake = subprocess.Popen(
        [sys.executable, __file__, "fake", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert fake.stdout is not None
    settings.SCHOOLSMS_TWILIO_API_URL = fake.stdout.readline().strip()
    org = build_audience(count, mps=MPS)
    values = {"account_sid": ACCOUNT, "auth_token": TOKEN, "from_number": "+12175550100"}
    sender_gateway_configure(sender=org.sender, gateway="twilio", values=values, mps=MPS)
    broadcast = broadcast_dispatched(org)
    # No status callbacks (this measures sending), so the rows stay Sending, which a worker
    # run until idle would wait out: it is stopped once every row has Twilio's answer.
    worker = pipeline_worker(
        until_idle=False, horizon=5, sweep_every=5, interval=0.01, worker_id="bench"
    )
    thread = threading.Thread(target=worker.run)
    started = time.perf_counter()
    thread.start()
    answered = Message.objects.filter(broadcast=broadcast, carrier_message_id__gt="")
    deadline = time.monotonic() + 3 * count / MPS + 60
    while answered.count() < count and time.monotonic() < deadline:
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    worker.running = False
    thread.join()
    seen = json.loads(fake.communicate("")[0])
    stamps = sorted(seen["create_times"])
    gateway_chunk = throttle_chunk(MPS, settings.SCHOOLSMS_SEND_BATCH_SIZE, concurrency_for(MPS))
    return {
        "elapsed": elapsed,
        "results": results_count(broadcast),
        "creates": len(stamps),
        "first": stamps[0],
        "last": stamps[-1],
        "peak_1s": peak_per_second(stamps),
        "chunk": gateway_chunk,
        "most_in_flight": seen["most_in_flight"],
    }


def run(scale: float) -> list[Figure]:
    count = _count(scale)
    sent = child("bench_twilio_send", "send", scale, "twilio_send.sqlite3")
    span = sent["last"] - sent["first"]
    # Messages after the first chunk, over the time from the first chunk to the last: the
    # figure is that time against the same messages at the limit (at most 1/SHARE).
    at_limit = (count - sent["chunk"]) / MPS
    problems = []
    if sent["peak_1s"] > MPS:
        problems.append(f"{sent['peak_1s']} creates in one second, over the limit of {MPS}")
    if sent["results"] != {"sending": count} or sent["creates"] != count:
        problems.append(f"{sent['creates']} creates for {count} rows: {sent['results']}")
    return [
        Figure(
            name=f"send {count:,} messages through Twilio at {MPS}/s, "
            f"{LATENCY * 1000:.0f} ms a request",
            ours_seconds=span,
            baseline_name=f"that many at {MPS}/s",
            baseline_seconds=at_limit,
            limit_ratio=round(1 / SHARE, 2),
            rows=count,
            problems=problems,
            extra={
                "sustained_msg_per_s": round((count - sent["chunk"]) / span, 1),
                "rate_ratio": round(at_limit / span, 3),
                "peak_in_any_second": sent["peak_1s"],
                "most_in_flight": sent["most_in_flight"],
                "results": sent["results"],
                "wall_seconds": round(sent["elapsed"], 1),
            },
        )
    ]


if __name__ == "__main__":
    if sys.argv[1] == "fake":
        _serve_fake()
    else:
        print(json.dumps(_send(_count(float(sys.argv[2])))))
