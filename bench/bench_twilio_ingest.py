"""Issue 13: how fast signed Twilio status callbacks are taken in through the real server.

`schoolsms serve --no-worker` (gunicorn, its default workers) serves the project with one extra
URL, /bench/bare: a Django view that only answers 200. A separate load process on 127.0.0.1
posts the same signed callback forms, first to the bare view, then to /webhooks/twilio/status
(signature checked, sender found, each message's row moved forward), in interleaved rounds.
The figure is the callbacks' time over the bare view's: a rate ratio of at least 0.5 means the
time ratio stays at or under 2. Every callback must be answered 200 and every
row end Sent with its delivery time.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure, django_setup  # noqa: E402
from pipeline_data import VAR, setup_database  # noqa: E402

ACCOUNT = "AC" + "5b" * 16
TOKEN = "bench-token-0123456789abcdef"
THREADS = 4
ROUNDS = 10  # short rounds, so a burst of other work on a shared machine hits both alike
WARM_UP = 200


def _count(scale: float) -> int:
    return max(int(5_000 * scale), 500)


def _prepare(count: int, public_url: str) -> dict[str, Any]:
    """Step run in a child with DATABASE_URL set: a Twilio sender, `count` + WARM_UP rows in
    Sending with sids, and their signed `sent` and `delivered` callbacks (warm-up ones first)."""
    django_setup()
    setup_database()
    from django.utils import timezone
    from twilio.request_validator import RequestValidator

    from schoolsms.accounts.services import organization_create
    from schoolsms.carriers.services import sender_gateway_configure
    from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message

    org = organization_create(
        slug="bench", name="Bench District", sender_code="67500", quiet_hours="off"
    )
    sender_gateway_configure(
        sender=org.sender,
        gateway="twilio",
        values={"account_sid": ACCOUNT, "auth_token": TOKEN, "from_number": "+12175550100"},
    )
    broadcast = Broadcast.objects.create(
        organization=org, name="bench", text="Bench message", status=BroadcastStatus.SENDING,
        dispatched_at=timezone.now(),
    )  # fmt: skip
    now = timezone.now()
    total = count + WARM_UP
    sids = [f"SM{i:032x}" for i in range(total)]
    common = {
        "broadcast": broadcast, "organization": org, "sender": org.sender, "result": "sending",
        "attempts": 1, "claimed_at": now, "created_at": now, "updated_at": now,
    }  # fmt: skip
    Message.objects.bulk_create(
        [
            Message(phone=f"+1217{5550000 + i % 10000:07d}", carrier_message_id=sid, **common)
            for i, sid in enumerate(sids)
        ],
        batch_size=2000,
    )
    url = public_url + "/webhooks/twilio/status"
    validator = RequestValidator(TOKEN)
    forms = []
    for sid in sids:
        for status in ("sent", "delivered"):
            form = {
                "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "From": "+12175550100",
                "To": "+12175550101", "MessageSid": sid, "SmsSid": sid,
                "MessageStatus": status, "SmsStatus": status,
            }  # fmt: skip
            forms.append((form, validator.compute_signature(url, form)))
    out = VAR / "twilio_ingest_forms.json"
    out.write_text(json.dumps([[urlencode(f), s] for f, s in forms]))
    return {"forms": str(out), "warm_up": 2 * WARM_UP}


def _load(port: int, path: str, bodies: list[list[str]]) -> dict[str, Any]:
    """Step run in its own process: post every (body, signature) to `path`, THREADS at a
    time, each thread over its own connection; returns the elapsed time and the answers."""
    answers: dict[int, int] = {}
    lock = threading.Lock()
    share = [bodies[i::THREADS] for i in range(THREADS)]

    def worker(mine: list[list[str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        seen: dict[int, int] = {}
        for body, signature in mine:
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            seen[response.status] = seen.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            for status, n in seen.items():
                answers[status] = answers.get(status, 0) + n

    threads = [threading.Thread(target=worker, args=(part,)) for part in share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"elapsed": time.perf_counter() - started, "answers": answers}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post_all(port: int, path: str, forms_file: str, start: int, stop: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "load", str(port), path, forms_file, str(start), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _wait_up(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("POST", "/bench/bare", body="")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not come up")


def run(scale: float) -> list[Figure]:
    count = _count(scale)
    VAR.mkdir(parents=True, exist_ok=True)
    db = VAR / "twilio_ingest.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{db}",
        SCHOOLSMS_VAR_DIR=str(VAR),
        SCHOOLSMS_PUBLIC_URL=public,
        # A throwaway key for the throwaway database (it seals the sender's auth token).
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-" + "x" * 40),
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    )
    prepared = json.loads(
        subprocess.run(
            [sys.executable, __file__, "prepare", str(count), public],
            env=env, stdout=subprocess.PIPE, text=True, check=True,
        ).stdout.strip().splitlines()[-1]
    )  # fmt: skip
    forms, warm = prepared["forms"], prepared["warm_up"]
    total = warm + 2 * count
    server = subprocess.Popen(
        [sys.executable, "-m", "schoolsms", "serve", "--no-worker", "--host", "127.0.0.1",
         "--port", str(port)],
        env={**env, "DJANGO_SETTINGS_MODULE": "ingest_settings"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    bare = ours_elapsed = 0.0
    answers: dict[str, int] = {}
    try:
        _wait_up(port)
        _post_all(port, "/bench/bare", forms, 0, warm)
        _post_all(port, "/webhooks/twilio/status", forms, 0, warm)
        # Interleaved rounds, so the other work on a shared machine weighs on both alike.
        step = -(-(total - warm) // ROUNDS)
        for start in range(warm, total, step):
            stop = min(start + step, total)
            bare += _post_all(port, "/bench/bare", forms, start, stop)["elapsed"]
            ours = _post_all(port, "/webhooks/twilio/status", forms, start, stop)
            ours_elapsed += ours["elapsed"]
            for status, n in ours["answers"].items():
                answers[status] = answers.get(status, 0) + n
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    con = sqlite3.connect(db)
    settled = con.execute(
        "SELECT count(*) FROM messaging_message WHERE result = 'sent' AND delivered_at IS NOT NULL"
    ).fetchone()[0]
    con.close()
    callbacks = 2 * count
    ok = answers == {"200": callbacks} and settled == count + warm // 2
    return [
        Figure(
            name=f"{callbacks:,} signed Twilio status callbacks through schoolsms serve",
            ours_seconds=ours_elapsed if ok else float("inf"),
            baseline_name="bare Django view, same server",
            baseline_seconds=bare,
            limit_ratio=2.0,  # callbacks per second at least half the bare view's
            rows=callbacks,
            extra={
                "callbacks_per_s": round(callbacks / ours_elapsed),
                "bare_per_s": round(callbacks / bare),
                "rate_ratio": round(bare / ours_elapsed, 2),
                "answers": answers,
                "rows_settled": settled,
                "load_threads": THREADS,
            },
        )
    ]


if __name__ == "__main__":
    step = sys.argv[1]
    if step == "prepare":
        print(json.dumps(_prepare(int(sys.argv[2]), sys.argv[3])))
    elif step == "load":
        port_arg, path_arg, file_arg = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        start_arg, stop_arg = int(sys.argv[5]), int(sys.argv[6])
        bodies = json.loads(Path(file_arg).read_text())[start_arg:stop_arg]
        print(json.dumps(_load(port_arg, path_arg, bodies)))
