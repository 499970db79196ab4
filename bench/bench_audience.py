"""The compose page's live audience breakdown (issue 10): who of 100,000 contacts would get the
text and why not, with fan-out's own SQL, against the raw limit of reading the same rows (a
plain COUNT over the contact, number, consent and block-list joins), same run. The target is
"well under a second"; the figure's ratio says how close it stays to reading the rows at all.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure, django_setup  # noqa: E402
from pipeline_data import build_audience, child, setup_database  # noqa: E402

ROUNDS = 3


def _breakdown(count: int) -> dict[str, Any]:
    django_setup()
    setup_database()
    from django.db import connection

    from schoolsms.messaging.selectors import audience_breakdown

    org = build_audience(count, mps=0)
    with connection.cursor() as cur:
        # Some variety: every 10th number pending, every 50th opted out, every 100th blocked,
        # every 200th shared with the next contact.
        cur.execute("UPDATE consent_consentrecord SET status = 'pending' WHERE id % 10 = 0")
        cur.execute("UPDATE consent_consentrecord SET status = 'opted_out' WHERE id % 50 = 1")
        cur.execute(
            "INSERT INTO consent_blockednumber (organization_id, phone, reason, created_at) "
            "SELECT %s, phone, '', CURRENT_TIMESTAMP FROM contacts_phonenumber "
            "WHERE contact_id % 100 = 3",
            [org.pk],
        )
        cur.execute(
            "UPDATE contacts_phonenumber SET phone = (SELECT p2.phone FROM contacts_phonenumber "
            "p2 WHERE p2.contact_id = contacts_phonenumber.contact_id - 1) "
            "WHERE contact_id % 200 = 5"
        )
    raw_sql = (
        "SELECT COUNT(*), COUNT(cr.status), COUNT(bn.id) FROM contacts_contact c "
        "LEFT JOIN contacts_phonenumber p ON p.contact_id = c.id AND p.sms_enabled "
        "LEFT JOIN consent_consentrecord cr ON cr.sender_id = %s AND cr.phone = p.phone "
        "LEFT JOIN consent_blockednumber bn ON bn.organization_id = %s AND bn.phone = p.phone "
        "WHERE c.organization_id = %s"
    )
    ours: list[float] = []
    ours_cpu: list[float] = []
    baseline: list[float] = []
    result: dict[str, Any] = {}
    for _ in range(ROUNDS):
        started, cpu = time.perf_counter(), time.process_time()
        result = audience_breakdown(organization=org)
        ours.append(time.perf_counter() - started)
        ours_cpu.append(time.process_time() - cpu)
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(raw_sql, [org.sender_id, org.pk, org.pk])
            cur.fetchall()
        baseline.append(time.perf_counter() - started)
    assert result["rows"] == count, result
    return {
        "count": count,
        "ours": ours,
        "ours_cpu": ours_cpu,
        "baseline": baseline,
        "result": result,
    }


def run(scale: float) -> list[Figure]:
    out = child("bench_audience", "breakdown", scale, "audience.sqlite3")
    ours, baseline = out["ours"], out["baseline"]
    return [
        Figure(
            name=f"audience breakdown of {out['count']:,} contacts (SQLite), best of {ROUNDS}",
            ours_seconds=min(ours),
            baseline_name="plain COUNT over the same joins",
            baseline_seconds=min(baseline),
            limit_ratio=3.0,
            rows=out["count"],
            extra={
                "ours_runs": [round(t, 3) for t in ours],
                # CPU seconds of the breakdown: on a busy shared machine the wall clock also
                # holds the time spent waiting for a core.
                "ours_cpu": [round(t, 3) for t in out["ours_cpu"]],
                "baseline_runs": [round(t, 3) for t in baseline],
                "breakdown": out["result"],
            },
        )
    ]


if __name__ == "__main__":
    print(json.dumps(_breakdown(max(int(100_000 * float(sys.argv[2])), 1_000))))
