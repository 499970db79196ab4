"""Data for bench_reports.py: a generated district on PostgreSQL and on SQLite.

PostgreSQL rows come from generate_series and SQLite rows from recursive CTEs, server side.
Each step runs in a child process whose DATABASE_URL points at the bench database.
"""

from __future__ import annotations

import os
import time
from typing import Any

from common import django_setup

TZ = "America/New_York"
BROADCASTS = 200  # one a day, the last one yesterday
EXPORT_DAYS = 20  # 20 of the 200 broadcasts: 1,000,000 rows at scale 1

# (share in %, result, reason, carrier code): the outcome mix of the generated messages.
OUTCOMES = (
    [(80, "sent", "", "")]
    + [(2, "ineligible", "opted_out", ""), (2, "ineligible", "pending_opt_in", "")]
    + [(1, "ineligible", r, "") for r in ("not_opted_in", "blocked", "no_sms_number")]
    + [(1, "ineligible", "duplicate_number", "")]
    + [(2, "failed", "carrier_error", "30001"), (1, "failed", "contact_account", "30003")]
    + [(1, "failed", "no_sms_capability", "30006"), (1, "failed", "carrier_error", "30007")]
    + [(4, "not_sent_yet", "", ""), (3, "sending", "", "")]
)


def sizes(scale: float) -> dict[str, int]:
    messages = max(int(10_000_000 * scale), BROADCASTS * 10)
    contacts = max(int(800_000 * scale), 100)
    return {
        "per_broadcast": messages // BROADCASTS,
        "contacts": contacts,
        "phones": contacts + contacts // 4,
        "sqlite_per_broadcast": max(min(1_000_000, int(10_000_000 * scale)) // EXPORT_DAYS, 10),
    }


def _outcome_rows() -> list[tuple[int, str, str, str]]:
    rows, h = [], 0
    for share, result, reason, code in OUTCOMES:
        for _ in range(share):
            rows.append((h, result, reason, code))
            h += 1
    assert h == 100
    return rows


# Indexes this report would like on messaging_message (owned by messaging; not in its models).
# BENCH_REPORTS_INDEXES=1 creates them in the bench database to measure their effect; otherwise
# they are dropped, so the figures are those of the schema as migrated.
SUGGESTED_INDEXES = {
    # Deep pages of one broadcast: 4.4 s -> 8 ms at scale 1 (measured 2026-11-26).
    "bench_message_broadcast_time": "(broadcast_id, created_at, id)",
    # Deep pages sorted by phone: 125-210 ms -> 15 ms at scale 1.
    "bench_message_org_phone": "(organization_id, phone, id)",
}


def _suggested_indexes(cursor: Any) -> str:
    wanted = os.environ.get("BENCH_REPORTS_INDEXES") == "1"
    for name, columns in SUGGESTED_INDEXES.items():
        if wanted:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON messaging_message {columns}")
        else:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    return "with suggested indexes" if wanted else "schema as migrated"


def step_prepare_pg(scale: float) -> dict[str, Any]:
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    from schoolsms.accounts.services import organization_create

    n = sizes(scale)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_reports_meta (scale float)")
        cur.execute("SELECT scale FROM bench_reports_meta")
        found = cur.fetchone()
        if found and found[0] == scale:
            return {"generated": False, "indexes": _suggested_indexes(cur)}
        for table in (
            "messaging_message",
            "messaging_broadcast",
            "consent_consentevent",
            "consent_consentrecord",
            "contacts_phonenumber",
            "contacts_contact",
            "consent_blockednumber",
            "accounts_organization",
            "accounts_sender",
        ):
            cur.execute(f"TRUNCATE {table} RESTART IDENTITY CASCADE")
        cur.execute("DELETE FROM bench_reports_meta")
    org = organization_create(slug="bench", name="Bench District", sender_code="90000", timezone=TZ)
    other = organization_create(slug="bench-other", name="Other", sender_code="90001", timezone=TZ)
    p = {
        "org": org.pk,
        "sender": org.sender_id,
        "other": other.pk,
        "other_sender": other.sender_id,
        "contacts": n["contacts"],
        "per": n["per_broadcast"],
        "days": BROADCASTS,
    }
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # bulk load: skip FK triggers
        cur.execute(
            "INSERT INTO contacts_contact (organization_id, external_id, first_name, last_name,"
            " email, language, role, school, active, created_at, updated_at)"
            " SELECT %(org)s, 'S' || g,"
            " (ARRAY['Ana','Ben','Cal','Dee','Eli','Fay'])[1 + mod(g, 6)],"
            " 'Family' || mod(g, 5000), '', 'en', 'guardian', 'School ' || mod(g, 20), true,"
            " now(), now()"
            " FROM generate_series(1, %(contacts)s) g",
            p,
        )
        cur.execute(
            "INSERT INTO contacts_phonenumber (contact_id, position, phone, sms_enabled,"
            " sms_capable) SELECT g, 1, '+1217' || (2000000 + g), true, true"
            " FROM generate_series(1, %(contacts)s) g UNION ALL"
            " SELECT g, 2, '+1217' || (2000000 + %(contacts)s + g / 4), true, true"
            " FROM generate_series(4, %(contacts)s, 4) g",
            p,
        )
        # One number in 50 has no record; as many records again belong to no contact.
        cur.execute(
            "INSERT INTO consent_consentrecord (sender_id, phone, status, changed_at)"
            " SELECT %(sender)s, '+1217' || (2000000 + g), CASE WHEN mod(g, 10) < 6 THEN 'opted_in'"
            " WHEN mod(g, 10) = 8 THEN 'opted_out' ELSE 'pending' END,"
            " now() - mod(g, 400) * interval '1 day'"
            " FROM generate_series(1, %(phones)s + %(phones)s / 50) g"
            " WHERE mod(g, 50) <> 49 OR g > %(phones)s",
            {**p, "phones": n["phones"]},
        )
        cur.execute(
            "INSERT INTO consent_consentevent (record_id, old_status, new_status, source, text,"
            " organization_id, created_at) SELECT id, '', status, 'import', '', %(org)s,"
            " changed_at FROM consent_consentrecord WHERE mod(id, 10) = 1",
            p,
        )
        cur.execute(
            "INSERT INTO messaging_broadcast (organization_id, name, text, audience_roles,"
            " audience_schools, audience_external_ids, audience_languages, kind, texts, emergency,"
            " status, created_at, dispatched_at, completed_at) SELECT o, 'Broadcast ' || g,"
            " 'News', '[]', '[]', '[]', '[]', 'broadcast', '{}', false, 'complete', d, d, d FROM"
            " (SELECT g, CASE WHEN g <= %(days)s THEN %(org)s"
            " ELSE %(other)s END AS o, date_trunc('day', now()) + interval '14 hours'"
            " - (CASE WHEN g <= %(days)s THEN %(days)s + 1 - g ELSE g - %(days)s END)"
            " * interval '1 day' AS d FROM generate_series(1, %(days)s + 5) g) s",
            p,
        )
        cur.execute("CREATE TEMP TABLE outcome (h int, result text, reason text, code text)")
        cur.executemany("INSERT INTO outcome VALUES (%s, %s, %s, %s)", _outcome_rows())
        cur.execute(
            "INSERT INTO messaging_message (broadcast_id, organization_id, sender_id, contact_id,"
            " phone, result, reason, carrier_code, attempts, created_at, sent_at, delivered_at,"
            " updated_at) SELECT b.id, b.organization_id, CASE WHEN b.organization_id = %(org)s"
            " THEN %(sender)s ELSE %(other_sender)s END, CASE WHEN b.organization_id = %(org)s"
            " THEN x.c END, CASE WHEN o.reason = 'no_sms_number' OR b.organization_id <> %(org)s"
            " THEN NULL ELSE '+1217' || (2000000 + x.c) END, o.result, o.reason, o.code, 1, x.t,"
            " CASE WHEN o.result IN ('sent', 'failed') THEN x.t + interval '2 seconds' END,"
            " CASE WHEN o.result = 'sent' AND mod(g, 10) < 7"
            " THEN x.t + interval '9 seconds' END, x.t"
            " FROM messaging_broadcast b CROSS JOIN generate_series(1, %(per)s) g"
            " CROSS JOIN LATERAL (SELECT 1 + mod(b.id * %(per)s + g, %(contacts)s) AS c,"
            " b.created_at + g * interval '1 millisecond' AS t) x"
            " JOIN outcome o ON o.h = mod(g * 7919, 100)"
            " WHERE b.organization_id = %(org)s OR g <= 1000",
            p,
        )
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("INSERT INTO bench_reports_meta VALUES (%s)", [scale])
    with connection.cursor() as cur:
        for table in (
            "messaging_message",
            "contacts_contact",
            "contacts_phonenumber",
            "consent_consentrecord",
            "consent_consentevent",
            "messaging_broadcast",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
        indexes = _suggested_indexes(cur)
    return {"generated": True, "seconds": time.perf_counter() - started, "indexes": indexes}


def step_prepare_sqlite(scale: float) -> dict[str, Any]:
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    from schoolsms.accounts.models import Organization
    from schoolsms.accounts.services import organization_create
    from schoolsms.messaging.models import Message

    per = sizes(scale)["sqlite_per_broadcast"]
    call_command("migrate", verbosity=0)
    org = Organization.objects.filter(slug="bench").first()
    if org and Message.objects.count() == per * EXPORT_DAYS:
        return {"generated": False}
    org = org or organization_create(slug="bench", name="Bench", sender_code="90000", timezone=TZ)
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM messaging_message")
        cur.execute("DELETE FROM messaging_broadcast")
        cur.execute("DELETE FROM contacts_contact")
        cur.execute(
            "INSERT INTO contacts_contact (id, organization_id, external_id, first_name, last_name,"
            " email, language, role, school, active, created_at, updated_at) WITH RECURSIVE"
            " n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 5000) SELECT g, %s,"
            " 'S' || g, 'Ana', 'Family' || g, '', 'en', 'guardian', '', 1, '2026-01-01',"
            " '2026-01-01' FROM n",
            [org.pk],
        )
        cur.execute(
            "INSERT INTO messaging_broadcast (id, organization_id, name, text, audience_roles,"
            " audience_schools, audience_external_ids, audience_languages, kind, texts,"
            " emergency, status, created_at)"
            " WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < %s)"
            " SELECT g, %s, 'Broadcast ' || g, 'News', '[]', '[]', '[]', '[]', 'broadcast', '{}',"
            " 0, 'complete',"
            " datetime(date('now', '-' || (%s + 1 - g) || ' days'), '+14 hours') FROM n",
            [EXPORT_DAYS, org.pk, EXPORT_DAYS],
        )
        cur.execute("CREATE TEMP TABLE outcome (h int, result text, reason text, code text)")
        cur.executemany("INSERT INTO outcome VALUES (%s, %s, %s, %s)", _outcome_rows())
        cur.execute(
            "INSERT INTO messaging_message (broadcast_id, organization_id, sender_id, contact_id,"
            " phone, result, reason, carrier_code, attempts, created_at, sent_at, delivered_at,"
            " updated_at) WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n"
            " WHERE g < %s) SELECT b.id, %s, %s, 1 + (g %% 5000), '+1217' || (2000000 + g %% 5000),"
            " o.result, o.reason, o.code, 1, strftime('%%Y-%%m-%%d %%H:%%M:%%f', b.created_at,"
            " '+' || (g / 1000.0) || ' seconds'), CASE WHEN o.result IN ('sent', 'failed') THEN"
            " b.created_at END, NULL, b.created_at FROM messaging_broadcast b CROSS JOIN n"
            " JOIN outcome o ON o.h = (g * 7919) %% 100",
            [per, org.pk, org.sender_id],
        )
    return {"generated": True, "seconds": time.perf_counter() - started}
