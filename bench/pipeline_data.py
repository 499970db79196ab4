"""Shared by bench_fanout and bench_send: a throwaway SQLite database with one organization
and N opted-in contacts, built with plain SQL (the bench measures the pipeline, not imports)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VAR = Path(os.environ.get("BENCH_PIPELINE_VAR", "/tmp/schoolsms-bench-pipeline"))


def child(module: str, step: str, scale: float, db_name: str) -> Any:
    """Run `python bench/<module>.py <step> <scale>` against its own SQLite file; returns the
    JSON it prints last."""
    VAR.mkdir(parents=True, exist_ok=True)
    db = VAR / db_name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{db}",
        SCHOOLSMS_VAR_DIR=str(VAR),
        SCHOOLSMS_SIMULATOR_SCENARIO="",
        SCHOOLSMS_SIMULATOR_CALLBACK_DELAY="0",
        # A throwaway key for the throwaway database (the simulator signs its callbacks).
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-" + "x" * 40),
        LOG_LEVEL="WARNING",
    )
    proc = subprocess.run(
        [sys.executable, str(HERE / f"{module}.py"), step, str(scale)],
        env=env,
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
    from django.db import connection
    from django.utils import timezone

    from schoolsms.accounts.services import organization_create

    org = organization_create(
        slug="bench", name="Bench District", sender_code="67500", quiet_hours="off"
    )
    org.sender.mps = mps
    org.sender.save()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    connection.ensure_connection()
    raw: sqlite3.Connection = connection.connection  # type: ignore[assignment]
    cur = raw.cursor()
    cur.execute("BEGIN")
    cur.executemany(
        "INSERT INTO contacts_contact (id, organization_id, external_id, first_name, last_name,"
        " email, language, role, school, active, created_at, updated_at)"
        " VALUES (?, ?, ?, 'Pat', 'Doe', '', 'en', 'guardian', 'Lincoln', 1, ?, ?)",
        ((i, org.pk, f"S{i}", now, now) for i in range(1, count + 1)),
    )
    cur.executemany(
        "INSERT INTO contacts_phonenumber (contact_id, position, phone, sms_enabled, sms_capable)"
        " VALUES (?, 1, ?, 1, 1)",
        ((i, _phone(i)) for i in range(1, count + 1)),
    )
    cur.executemany(
        "INSERT INTO consent_consentrecord (sender_id, phone, status, changed_at)"
        " VALUES (?, ?, 'opted_in', ?)",
        ((org.sender_id, _phone(i), now) for i in range(1, count + 1)),
    )
    cur.execute("COMMIT")
    return org


def _phone(i: int) -> str:
    # Fictional-looking but distinct numbers across area codes 201-999.
    return f"+1{201 + i % 700}{(i // 700) % 10_000_000:07d}"
