"""Privacy and faults around a whole broadcast.

Privacy: the logs (INFO and above) of a broadcast sent through the API and the worker process,
with failures, retries, carrier callbacks and a STOP texted back, hold no phone number and no
message text.

Faults, each ending with every message row in one true result and no number texted twice:
the database unreachable for a while in the middle of a broadcast (PostgreSQL behind a TCP
proxy this test cuts and restores; the shared server itself is never stopped), the carrier
answering 5xx in bursts, and the disk filling up while a report is exported (a small tmpfs
when this machine lets us mount one, else a file-size limit, RLIMIT_FSIZE, on the exporting
process: the same write error, EFBIG instead of ENOSPC).
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.config import auth_token
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.carriers.simulator.transport import SimulatorGateway
from schoolsms.messaging.gateway import SendOutcome, gateway_register
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, run_worker

SCHOOLSMS = str(Path(sys.executable).with_name("schoolsms"))
TEXT = "Lemonade stand fundraiser moved to Thursday"
FINAL = {"sent", "ineligible", "failed"}
EXPORT = [SCHOOLSMS, "report", "sms-log", "--format", "csv", "--org"]


def _audience(org: Any, count: int, *, first: int = 100) -> list[str]:
    phones = [f"+1217555{first + i:04d}" for i in range(count)]
    for i, phone in enumerate(phones):
        testing.create_contact(org, f"c{i}", [phone], consent="opted_in")
    return phones


def _env(**extra: str) -> dict[str, str]:
    return {
        **testing.subprocess_env(),
        "SCHOOLSMS_SIMULATOR_CALLBACK_DELAY": "0",
        "SCHOOLSMS_RETRY_BASE_DELAY": "0",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def _assert_one_true_result_and_none_twice(broadcast: Broadcast) -> Counter[str]:
    rows = list(Message.objects.filter(broadcast=broadcast).values("phone", "result", "reason"))
    results = Counter(r["result"] for r in rows)
    assert set(results) <= FINAL, f"rows left unfinished: {results}"
    per_number = Counter(
        SimulatedMessage.objects.filter(message_ref__isnull=False).values_list("to", flat=True)
    )
    assert not per_number or max(per_number.values()) == 1, "a number got the text twice"
    sent = {r["phone"] for r in rows if r["result"] == "sent"}
    assert sent <= set(per_number), "a row says Sent that the carrier never had"
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE
    return results


def _secrets_in(text: str, phones: list[str]) -> list[str]:
    found = [TEXT] if TEXT in text or TEXT[:20] in text else []
    for phone in phones:
        national = phone[2:]
        for shape in (phone, national, f"{national[3:6]}-{national[6:]}", national[3:]):
            if shape in text:
                found.append(shape)
    return found


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_logs_of_a_whole_broadcast_hold_no_number_and_no_text(tmp_path: Path, caplog: Any) -> None:
    org = testing.create_org()
    admin = testing.create_user(org, "admin@springfield.example.org", "admin")
    phones = _audience(org, 6)
    scenario = tmp_path / "scenario.csv"
    # One refused at once, one failed by the carrier, one undelivered after sending.
    scenario.write_text(
        f"phone,error_code\n{phones[0]},21211\n{phones[1]},30007\n{phones[2]},30003\n"
    )
    caplog.set_level(logging.INFO)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin)}")
    created = api.post(
        "/api/v1/broadcasts/", {"name": "Fundraiser", "text": TEXT}, "application/json"
    )
    assert created.status_code == 201
    api.post(f"/api/v1/broadcasts/{created.json()['id']}/send", {}, "application/json")
    worker = subprocess.run(
        [SCHOOLSMS, "worker", "--until-idle"],
        env=_env(SCHOOLSMS_SIMULATOR_SCENARIO=str(scenario)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    # Someone texts STOP back: the inbound webhook, in this process.
    path = f"/carriers/simulator/{org.sender.code}/inbound"
    form = {"From": phones[3], "To": org.sender.code, "Body": "STOP", "MessageSid": "SMstop"}
    signature = twilio_wire.sign(
        url=django_settings.SCHOOLSMS_PUBLIC_URL + path,
        params=form,
        auth_token=auth_token(org.sender),
    )
    assert Client().post(path, form, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 200

    broadcast = Broadcast.objects.get()
    results = _assert_one_true_result_and_none_twice(broadcast)
    assert results["failed"] >= 2  # the failures were there to be logged
    logs = worker.stdout + worker.stderr + caplog.text
    assert "INFO" in logs or caplog.records, "no log lines were captured at all"
    assert _secrets_in(logs, phones) == []


@pytest.mark.django_db(transaction=True)
def test_carrier_5xx_in_bursts(settings: Any) -> None:
    """Batches 2-4 and 7-8 get HTTP 503 (Twilio answers 5xx before it creates a message):
    those rows are retried and sent once each."""
    settings.SCHOOLSMS_RETRY_BASE_DELAY = 0
    settings.SCHOOLSMS_RETRY_LIMIT = 6
    settings.SCHOOLSMS_SEND_BATCH_SIZE = 5
    calls = Counter[str]()

    class BurstyCarrier(SimulatorGateway):
        def send_batch(self, messages: Any) -> list[SendOutcome]:
            calls["batches"] += 1
            if calls["batches"] in (2, 3, 4, 7, 8):
                calls["5xx"] += len(messages)
                return [
                    SendOutcome(m.message_id, "transient", code="http_5xx", detail="503")
                    for m in messages
                ]
            return super().send_batch(messages)

    gateway_register(name="bursty", factory=BurstyCarrier)
    org = testing.create_org()
    org.sender.gateway = "bursty"
    org.sender.mps = 0
    org.sender.save()
    _audience(org, 30)
    broadcast = make_broadcast(org)
    run_worker(horizon=60)
    assert calls["5xx"] > 0
    results = _assert_one_true_result_and_none_twice(broadcast)
    assert results == {"sent": 30}


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 to the PostgreSQL server, which the test cuts (every open
    connection dropped, new ones refused) and restores."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.down = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            for s in self.open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self.open.clear()

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_database_unreachable_during_a_broadcast() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the database outage is tested on PostgreSQL (a server to be cut off from)")
    org = testing.create_org()
    org.sender.mps = 40  # about 5 s of sending: the cut lands in the middle
    org.sender.save()
    _audience(org, 200)
    broadcast = make_broadcast(org)
    db = connection.settings_dict
    proxy = CuttableProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    url = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    # Rows a cut-off worker left Sending are asked about after the lease (120 s in production).
    env = _env(DATABASE_URL=url, LOG_LEVEL="WARNING", SCHOOLSMS_SEND_LEASE="3")
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker() -> None:
        workers.append(
            subprocess.Popen(
                [SCHOOLSMS, "worker", "--until-idle"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    try:
        start_worker()
        deadline = time.monotonic() + 60
        while not Message.objects.filter(broadcast=broadcast, result="sent").exists():
            assert time.monotonic() < deadline, "the broadcast never started"
            time.sleep(0.1)
        proxy.cut()
        time.sleep(4)
        proxy.restore()
        # Like a supervisor (systemd, Kubernetes): a worker that gave up is started again.
        deadline = time.monotonic() + 120
        while Message.objects.filter(broadcast=broadcast).exclude(result__in=FINAL).exists():
            left = Counter(Message.objects.values_list("result", flat=True))
            assert time.monotonic() < deadline, f"the broadcast never finished: {left}"
            if workers[-1].poll() is not None:
                start_worker()
            time.sleep(0.5)
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=60)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(timeout=20)
        proxy.close()
    results = _assert_one_true_result_and_none_twice(broadcast)
    assert results == {"sent": 200}


@contextlib.contextmanager
def _small_disk(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    """A 256 KB tmpfs (root may mount one) or, failing that, a 256 KB file-size limit on the
    export process: both make the export's writes fail part-way, as a full disk does."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode == 0:
        try:
            yield mount, None
        finally:
            subprocess.run(["umount", str(mount)], check=False)
        return

    def limit() -> None:  # in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    yield mount, limit


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_disk_full_while_exporting(tmp_path: Path) -> None:
    org = testing.create_org()
    phones = _audience(org, 40)
    broadcast = make_broadcast(org, enqueue=False)
    rows = [
        Message(
            broadcast=broadcast,
            organization=org,
            sender=org.sender,
            phone=phones[i % len(phones)],
            result="sent",
        )
        for i in range(6000)
    ]
    now = timezone.now()
    for m in rows:
        m.created_at = m.updated_at = m.sent_at = now
    Message.objects.bulk_create(rows, batch_size=1000)
    with _small_disk(tmp_path) as (disk, limit):
        out = disk / "sms-log.csv"
        done = subprocess.run(
            [*EXPORT, org.slug, "--output", str(out)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=limit,
        )
        assert done.returncode == 1, (done.returncode, done.stderr[-1500:])
        assert "Traceback" not in done.stderr
        assert f"--output '{out}'" in done.stderr and "partial file was removed" in done.stderr
        assert not out.exists(), "a half-written export was left behind"
    # The database and the next export are fine.
    again = subprocess.run(
        [*EXPORT, org.slug, "--output", str(tmp_path / "ok.csv")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr[-1500:]
    assert len((tmp_path / "ok.csv").read_text().splitlines()) == 6001
    assert os.path.getsize(tmp_path / "ok.csv") > 256 * 1024
