"""What every benchmark returns, and the setup they share (Django, the `schoolsms` command)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    name: str
    ours_seconds: float
    baseline_name: str = ""
    baseline_seconds: float = 0.0
    limit_ratio: float | None = None  # the target: ours / baseline must stay at or under this
    rows: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    unit: str = "s"  # what ours and the baseline count, when not seconds (e.g. "msg/s")
    problems: list[str] = field(default_factory=list)  # a check that failed fails the figure
    skipped: str = ""  # why the bench could not run here (e.g. no PostgreSQL)

    @property
    def ratio(self) -> float | None:
        return self.ours_seconds / self.baseline_seconds if self.baseline_seconds else None

    @property
    def verdict(self) -> str:
        if self.skipped:
            return "SKIPPED"
        if self.problems:
            return "FAIL"
        if self.limit_ratio is None or self.ratio is None:
            return ""
        return "PASS" if self.ratio <= self.limit_ratio else "FAIL"


def django_setup() -> None:
    """Configure Django for a benchmark process (DATABASE_URL and SCHOOLSMS_VAR_DIR apply)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolsms.settings")
    django.setup()


# Contact files: two numbers a row, spread over real area codes so almost every number is
# distinct (the case that costs most).
AREA_CODES = (217, 312, 415, 212, 305, 512, 617, 206, 404, 713, 303, 602, 503, 614, 216, 313)
CONTACT_COLUMNS = ["external_id", "first_name", "last_name", "email", "role", "school",
                   "phone1", "sms1", "phone2", "sms2"]  # fmt: skip


def fresh_var(var: Path) -> None:
    """An empty folder `var` with a migrated SQLite database in it, for `schoolsms_timed`."""
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    schoolsms_timed(var, "migrate", "-v", "0")


def schoolsms_timed(var: Path, *args: str) -> float:
    """Run `schoolsms ARGS` on the SQLite database in `var`; returns its wall seconds."""
    env = dict(os.environ, SCHOOLSMS_VAR_DIR=str(var))
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "schoolsms", *args], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def local_number(rng: random.Random) -> str:
    """A US number as people type it, e.g. "(217) 555-0123"."""
    return f"({rng.choice(AREA_CODES)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def pg_database(url: str, *, fresh: bool = False) -> str:
    """Make sure the PostgreSQL database at `url` exists (dropped and made again when `fresh`);
    returns why not when PostgreSQL does not answer, else ""."""
    import psycopg

    base_url, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{base_url}/postgres", autocommit=True, connect_timeout=3) as conn:
            if fresh:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        return f"PostgreSQL not reachable at {base_url} ({str(exc).strip()})"
    return ""
