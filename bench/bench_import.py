"""Import speed (issue 2): `schoolsms contacts import` of 100,000 rows must finish "well under a
minute" on SQLite; also its re-import (nothing changes) and a 100,000-row consent import.

Each figure is measured against the one-minute budget the issue sets (limit: half of it).
Rows have two numbers each, spread over real area codes so almost every number is distinct
(the case that costs most); the generated file stays in /tmp and is never committed. Runs in
its own SQLite database under BENCH_IMPORT_VAR.
"""

from __future__ import annotations

import csv
import os
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import CONTACT_COLUMNS, Figure, fresh_var, local_number, schoolsms_timed  # noqa: E402

VAR = Path(os.environ.get("BENCH_IMPORT_VAR", "/tmp/schoolsms-bench-import"))
BUDGET = 60.0


def _write_files(rows: int) -> tuple[Path, Path]:
    rng = random.Random(2)
    contacts, consent = VAR / f"contacts-{rows}.csv", VAR / f"consent-{rows}.csv"
    numbers: list[str] = []
    with contacts.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CONTACT_COLUMNS)
        for i in range(rows):
            a, b = local_number(rng), local_number(rng)
            numbers.append(a)
            w.writerow([f"S{i:07d}", "Ann", "Lee", f"ann{i}@example.org", "guardian",
                        "Lincoln Elementary", a, "yes", b, "no"])  # fmt: skip
    with consent.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["phone", "sms_status", "changed_at"])
        for n in dict.fromkeys(numbers):
            w.writerow([n, rng.choice(["opted_in", "opted_in", "opted_out"]), "2025-06-01"])
    return contacts, consent


def run(scale: float) -> list[Figure]:
    rows = max(int(100_000 * scale), 100)
    fresh_var(VAR)
    contacts, consent = _write_files(rows)
    schoolsms_timed(VAR, "org", "create", "--slug", "bench", "--name", "Bench", "--sender", "67587")
    startup = schoolsms_timed(VAR, "check")  # interpreter and Django start-up, not import work
    figures = []
    for name, args in [
        ("contacts import, new", ["contacts", "import", "--org", "bench", str(contacts)]),
        ("contacts import, again", ["contacts", "import", "--org", "bench", str(contacts)]),
        ("consent import", ["consent", "import", "--org", "bench", str(consent)]),
    ]:
        seconds = schoolsms_timed(VAR, *args)
        figures.append(
            Figure(
                name=f"{name} ({rows:,} rows)",
                ours_seconds=seconds,
                baseline_name="the issue's one-minute budget",
                baseline_seconds=BUDGET * scale,
                limit_ratio=0.5,
                rows=rows,
                extra={"process_start_seconds": round(startup, 2)},
            )
        )
    return figures
