"""Shared by the pipeline benches: a throwaway database (SQLite, or PostgreSQL for the
workers bench) with one organization and N opted-in contacts, built with plain SQL (the bench
measures the pipeline, not imports); a broadcast fanned out and the worker run until idle;
and what the carrier received."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VAR = Path(os.environ.get("BENCH_PIPELINE_VAR", "/tmp/schoolsms-bench-pipeline"))


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment a bench's child process (and the workers it starts) runs in."""
    VAR.mkdir(parents=True, exist_ok=True)
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        SCHOOLSMS_VAR_DIR=str(VAR),
        SCHOOLSMS_SIMULATOR_SCENARIO="",
        SCHOOLSMS_SIMULATOR_CALLBACK_DELAY="0",
        # A throwaway key for the throwaway database (the simulator signs its callbacks).
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-" + "x" * 40),
        LOG_LEVEL="WARNING",
        **extra,
    )


def child(module: str, step: str, scale: float, db_name: str, *, database_url: str = "") -> Any:
    """Run `python bench/<module>.py <step> <scale>` against its own SQLite file (or the given
    database); returns the JSON it prints last."""
    if not database_url:
        db = VAR / db_name
        VAR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{db}"
    proc = subprocess.run(
        [sys.executable, str(HERE / f"{module}.py"), step, str(scale)],
        env=child_env(database_url),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def setup_database() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_audience(count: int, *, mps: int) -> Any:
    """One organization (quiet hours off) and `count` contacts, each with one opted-in number;
    returns the Organization."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from schoolsms.accounts.services import organization_create
    from schoolsms.contacts.models import Contact

    org = organization_create(
        slug="bench", name="Bench District", sender_code="67500", quiet_hours="off"
    )
    org.sender.mps = mps
    org.sender.save()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO contacts_contact (id, organization_id, external_id, first_name,"
            " last_name, email, language, role, school, active, created_at, updated_at)"
            " VALUES (%s, %s, %s, 'Pat', 'Doe', '', 'en', 'guardian', 'Lincoln', %s, %s, %s)",
            ((i, org.pk, f"S{i}", True, now, now) for i in range(1, count + 1)),
        )
        cur.executemany(
            "INSERT INTO contacts_phonenumber (contact_id, position, phone, sms_enabled,"
            " sms_capable) VALUES (%s, 1, %s, %s, %s)",
            ((i, _phone(i), True, True) for i in range(1, count + 1)),
        )
        cur.executemany(
            "INSERT INTO consent_consentrecord (sender_id, phone, status, changed_at)"
            " VALUES (%s, %s, 'opted_in', %s)",
            ((org.sender_id, _phone(i), now) for i in range(1, count + 1)),
        )
        # The ids were given, so PostgreSQL's sequence must catch up (nothing on SQLite).
        for sql in connection.ops.sequence_reset_sql(no_style(), [Contact]):
            cur.execute(sql)
    return org


def _phone(i: int) -> str:
    # Fictional-looking but distinct numbers across area codes 201-999.
    return f"+1{201 + i % 700}{(i // 700) % 10_000_000:07d}"


def broadcast_dispatched(org: Any) -> Any:
    """A broadcast to the whole audience, its message rows made (fan-out is bench_fanout's
    business)."""
    from schoolsms.messaging.models import Broadcast, BroadcastStatus
    from schoolsms.messaging.tasks import broadcast_dispatch_task

    broadcast = Broadcast.objects.create(
        organization=org, name="bench", text="Bench message", status=BroadcastStatus.SCHEDULED
    )
    broadcast_dispatch_task.call(broadcast.pk)
    return broadcast


def worker_until_idle() -> float:
    """Run the pipeline worker in this process until nothing is left; returns its seconds."""
    from schoolsms.messaging.management.commands.worker import PipelineWorker

    worker = PipelineWorker(
        until_idle=True,
        horizon=5,
        sweep_every=5,
        queue_names=["*"],
        interval=0.01,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="bench",
        excluded_queue_names=[],
    )
    started = time.perf_counter()
    worker.run()
    return time.perf_counter() - started


def results_count(broadcast: Any) -> dict[str, int]:
    """The broadcast's message rows by result."""
    from django.db.models import Count

    from schoolsms.messaging.models import Message

    rows = Message.objects.filter(broadcast=broadcast).values("result").annotate(n=Count("id"))
    return {row["result"]: row["n"] for row in rows}


def carrier_stamps() -> list[float]:
    """When the simulated carrier received each broadcast message, in order (epoch seconds)."""
    from schoolsms.carriers.simulator.models import SimulatedMessage

    return sorted(
        t.timestamp()
        for t in SimulatedMessage.objects.filter(message_ref__isnull=False).values_list(
            "created_at", flat=True
        )
    )


def peak_per_second(stamps: list[float]) -> int:
    """The most messages the carrier received in any one-second window (stamps sorted)."""
    peak, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamps[first] <= stamp - 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak
