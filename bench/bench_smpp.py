"""SMPP speed (issue 14): messages per second over one bind (window 10) to a local SMSC that
answers every submit_sm at once (its own process), as a ratio to the same SMSC fed by a minimal
client loop in the same run: prebuilt submit_sm bytes, the same window, replies read by header
only. Target: ours at least half the loop's rate (ours_seconds / loop_seconds <= 2).

- bind: the gateway alone (SmppGateway.send_batch in batches of 500, as the send loop calls it:
  text encoding, PDUs, the window, answers matched to messages), in a process settled as
  `schoolsms worker` settles its own (workers.configured.worker_process_settle).
- pipeline (extra figure, no target): the whole worker (claim, re-check, submit, record) sending
  a broadcast over the bind on SQLite.
"""

from __future__ import annotations

import multiprocessing
import socket
import struct
import sys
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
    results_count,
    setup_database,
    worker_until_idle,
)

WINDOW = 10
HEADER = struct.Struct(">LLLL")


def _serve(ports: Any) -> None:
    from schoolsms.carriers.smpp.tests.smsc import Smsc

    smsc = Smsc(receipts="", fast=True).start()
    ports.put(smsc.port)
    while True:
        time.sleep(3600)


def _smsc() -> tuple[multiprocessing.Process, int]:
    ports: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    process.start()
    return process, int(ports.get(timeout=30))


def _minimal_loop(port: int, count: int) -> float:
    """The raw limit: a bind, then submit_sm bytes built once, WINDOW outstanding at a time."""
    from schoolsms.carriers.smpp import pdus

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    bind = b"school\0secret\0\0\x34\0\0\0"
    sock.sendall(HEADER.pack(16 + len(bind), 0x09, 0, 1) + bind)
    sock.recv(4096)
    [segment] = pdus.segments("Snow day: school is closed.")
    body = pdus.submit_body(
        source="67500", source_ton=None, source_npi=None, to="+12175550100", segment=segment
    )
    started = time.perf_counter()
    sent = answered = 0
    buffer = b""
    while answered < count:
        while sent < count and sent - answered < WINDOW:
            sent += 1
            sock.sendall(HEADER.pack(16 + len(body), 0x04, 0, sent + 1) + body)
        buffer += sock.recv(65536)
        while len(buffer) >= 16:
            (length,) = struct.unpack_from(">L", buffer)
            if len(buffer) < length:
                break
            buffer = buffer[length:]
            answered += 1
    elapsed = time.perf_counter() - started
    sock.close()
    return elapsed


def _use_smsc(sender: Any, port: int) -> None:
    from schoolsms.carriers.services import sender_gateway_configure

    sender_gateway_configure(
        sender=sender,
        gateway="smpp",
        values={
            "smpp_host": "127.0.0.1",
            "smpp_port": port,
            "smpp_system_id": "school",
            "smpp_password": "secret",
            "smpp_window": WINDOW,
        },
    )


def _gateway(port: int, count: int) -> float:
    from schoolsms.accounts.models import Sender
    from schoolsms.carriers.smpp.transport import SmppGateway
    from schoolsms.messaging.gateway import OutboundMessage
    from schoolsms.messaging.workers.configured import worker_process_settle

    sender, _ = Sender.objects.get_or_create(code="67500")
    _use_smsc(sender, port)
    gateway = SmppGateway(sender)
    gateway.bind.session.wait_bound(10)
    worker_process_settle()  # as `schoolsms worker` does once started
    messages = [
        OutboundMessage(i, f"+1217555{i % 10_000:04d}", "67500", "Snow day: school is closed.")
        for i in range(count)
    ]
    started = time.perf_counter()
    taken = 0
    for start in range(0, count, 500):
        outcomes = gateway.send_batch(messages[start : start + 500])
        taken += sum(o.kind == "accepted" for o in outcomes)
    elapsed = time.perf_counter() - started
    assert taken == count, f"only {taken} of {count} taken"
    return elapsed


def _bind(count: int) -> dict[str, Any]:
    django_setup()
    setup_database()
    process, port = _smsc()
    try:
        loop, ours = [], []
        for _ in range(3):  # interleaved, best of 3: the machine is shared
            loop.append(_minimal_loop(port, count))
            ours.append(_gateway(port, count))
    finally:
        process.terminate()
    return {"loop": min(loop), "ours": min(ours), "loops": loop, "ours_all": ours}


def _pipeline(count: int) -> dict[str, Any]:
    django_setup()
    setup_database()
    process, port = _smsc()
    try:
        loop = _minimal_loop(port, count)
        org = build_audience(count, mps=0)
        _use_smsc(org.sender, port)
        broadcast = broadcast_dispatched(org)
        elapsed = worker_until_idle()
    finally:
        process.terminate()
    return {"elapsed": elapsed, "loop": loop, "results": results_count(broadcast)}


def run(scale: float) -> list[Figure]:
    count = max(int(20_000 * scale), 500)
    bind = child("bench_smpp", "bind", scale, "smpp_bind.sqlite3")
    pipeline_count = max(int(20_000 * scale), 500)
    pipeline = child("bench_smpp", "pipeline", scale, "smpp_pipeline.sqlite3")
    return [
        Figure(
            name=f"smpp: {count:,} submits over one bind (window {WINDOW})",
            ours_seconds=bind["ours"],
            baseline_name="minimal client loop, same SMSC",
            baseline_seconds=bind["loop"],
            limit_ratio=2.0,
            rows=count,
            extra={
                "ours_msg_per_s": round(count / bind["ours"]),
                "loop_msg_per_s": round(count / bind["loop"]),
                "rate_ratio": round(bind["loop"] / bind["ours"], 2),
            },
        ),
        Figure(
            name=f"smpp: a {pipeline_count:,}-message broadcast through the worker",
            ours_seconds=pipeline["elapsed"],
            baseline_name="minimal client loop, same SMSC",
            baseline_seconds=pipeline["loop"],
            rows=pipeline_count,
            extra={
                "ours_msg_per_s": round(pipeline_count / pipeline["elapsed"]),
                "loop_msg_per_s": round(pipeline_count / pipeline["loop"]),
                "results": pipeline["results"],
            },
        ),
    ]


if __name__ == "__main__":
    import json
    import os

    # The smpp password is sealed at rest, which needs a key; a throwaway one for the bench.
    os.environ.setdefault("SECRET_KEY", "bench-only-" + os.urandom(16).hex())

    step, scale_arg = sys.argv[1], float(sys.argv[2])
    size = max(int(20_000 * scale_arg), 500)
    print(json.dumps(_bind(size) if step == "bind" else _pipeline(size)))
