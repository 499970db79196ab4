"""Reports speed (issue 4), each figure against hand-written SQL, `psql \\copy` or `sqlite3`.

Measured: SMS Log summaries and pages, SMS Status totals and lookup, CSV export time and the
exporting process's peak memory.

Data (scale 1): 10,000,000 message rows in 200 daily broadcasts and about 1,000,000 consent
records on PostgreSQL (database `schoolsms_bench`, or BENCH_REPORTS_PG), generated server-side
with generate_series; the SQLite export uses min(1,000,000, 10,000,000 x scale) rows, and on
PostgreSQL the export runs for 20 days (1,000,000 rows at scale 1) and for every row. Data is
kept between runs and rebuilt only when the scale changes.

Each step runs in its own process with DATABASE_URL pointing at the bench database, so the
runner's own settings do not matter and the exporting process's peak memory is its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure, django_setup, pg_database  # noqa: E402
from reports_data import EXPORT_DAYS, TZ, step_prepare_pg, step_prepare_sqlite  # noqa: E402

PG_URL = os.environ.get("BENCH_REPORTS_PG", "postgres://postgres@127.0.0.1:5432/schoolsms_bench")
VAR = Path(os.environ.get("BENCH_REPORTS_VAR", "/tmp/schoolsms-bench-reports"))
SQLITE_PATH = VAR / "bench_reports.sqlite3"


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=url, SCHOOLSMS_VAR_DIR=str(VAR))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _child(step: str, scale: float, url: str) -> Any:
    """Run one step of this file in a fresh process; it prints its result as the last line."""
    proc = subprocess.run(
        [sys.executable, __file__, step, str(scale)],
        env=_env(url),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _timed_process(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time and peak resident memory (bytes) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:4]}… exited {proc.returncode}")
    return elapsed, usage.ru_maxrss * 1024  # Linux reports KiB


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _best(*fns: Any, repeat: int = 5) -> list[float]:
    """Best time of each function; the runs alternate, so a busy moment on this shared machine
    hurts every side alike. One warm-up run each: all sides are measured with a warm cache."""
    best = [float("inf")] * len(fns)
    for fn in fns:
        fn()
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            started = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - started)
    return best


def step_measure(scale: float) -> list[dict[str, Any]]:
    django_setup()
    import datetime as dt

    from django.db import connection

    from schoolsms.accounts.models import Organization
    from schoolsms.messaging.models import Broadcast
    from schoolsms.reports.keyset import encode_cursor
    from schoolsms.reports.selectors import SmsLogFilter, sms_log_page, sms_log_summary
    from schoolsms.reports.sms_status import sms_status_lookup, sms_status_totals

    org = Organization.objects.get(slug="bench")
    figures: list[dict[str, Any]] = []

    def sql(query: str, params: list[Any]) -> Any:
        with connection.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def pair(name: str, ours: Any, base_name: str, base: Any, limit: float, rows: int = 0) -> None:
        ours_seconds, base_seconds = _best(ours, base)
        figures.append(
            {
                "name": name,
                "ours_seconds": ours_seconds,
                "baseline_name": base_name,
                "baseline_seconds": base_seconds,
                "limit_ratio": limit,
                "rows": rows,
            }
        )

    def under(name: str, ours: Any, target_ms: float, rows: int = 0, **extra: Any) -> None:
        figures.append(
            {
                "name": name,
                "ours_seconds": _best(ours)[0],
                "baseline_name": f"target {target_ms:g} ms",
                "baseline_seconds": target_ms / 1000,
                "limit_ratio": 1.0,
                "rows": rows,
                "extra": extra,
            }
        )

    month = SmsLogFilter.default(org)
    start, end = month.utc_bounds()
    last = Broadcast.objects.filter(organization=org).order_by("-created_at").first()
    assert last is not None
    one = SmsLogFilter.default(org, broadcast_ids=[last.id])
    group = (
        "SELECT result, reason, COUNT(*) FROM messaging_message WHERE organization_id = %s"
        " AND created_at >= %s AND created_at < %s{} GROUP BY result, reason"
    )
    month_rows = sms_log_summary(month)["total"]
    pair(
        "sms_log_summary_30_days",
        lambda: sms_log_summary(month),
        "hand-written GROUP BY",
        lambda: sql(group.format(""), [org.pk, start, end]),
        1.5,
        month_rows,
    )
    pair(
        "sms_log_summary_one_broadcast",
        lambda: sms_log_summary(one),
        "hand-written GROUP BY",
        lambda: sql(group.format(" AND broadcast_id = %s"), [org.pk, start, end, last.id]),
        1.5,
        sms_log_summary(one)["total"],
    )

    def cursor_at(f: SmsLogFilter, fraction: float) -> str:
        key = {"date": "created_at", "phone": "phone", "delivered": "delivered_at"}[f.sort]
        direction = "DESC" if f.descending else "ASC"
        where = "organization_id = %s AND created_at >= %s AND created_at < %s"
        params: list[Any] = [org.pk, start, end]
        if f.broadcast_ids:
            where += " AND broadcast_id = %s"
            params.append(f.broadcast_ids[0])
        where += f" AND {key} IS NOT NULL"
        total = sql(f"SELECT COUNT(*) FROM messaging_message WHERE {where}", params)[0][0]
        value, row_id = sql(
            f"SELECT {key}, id FROM messaging_message WHERE {where}"
            f" ORDER BY {key} {direction}, id {direction} OFFSET %s LIMIT 1",
            [*params, min(int(total * fraction), total - 1)],
        )[0]
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return encode_cursor(value, row_id)

    by_phone = SmsLogFilter.default(org, sort="phone", descending=False)
    cases = [
        (label, f, where, fraction)
        for label, f in (("30_days", month), ("one_broadcast", one), ("30_days_by_phone", by_phone))
        for where, fraction in (("first", None), ("middle", 0.5), ("last", 0.999))
    ]
    # Rows without a phone or a delivered time: first going down, after the others going up.
    cases += [
        ("30_days_by_phone", by_phone, "into_no_phone", 1.0),
        ("30_days_by_phone_down", SmsLogFilter.default(org, sort="phone"), "first", None),
        ("30_days_by_delivered_down", SmsLogFilter.default(org, sort="delivered"), "first", None),
    ]
    for label, f, where, fraction in cases:
        after = cursor_at(f, fraction) if fraction is not None else None
        under(
            f"sms_log_page_{label}_{where}",
            lambda f=f, a=after: sms_log_page(f, after=a),
            50,
            rows=50,
        )

    t = {"pn": "contacts_phonenumber", "c": "contacts_contact", "cr": "consent_consentrecord"}
    totals_sql = (
        f"SELECT COALESCE(cr.status, 'pending'), COUNT(*) FROM {t['pn']} pn JOIN {t['c']} c"
        f" ON c.id = pn.contact_id LEFT JOIN {t['cr']} cr ON cr.sender_id = %s"
        " AND cr.phone = pn.phone WHERE c.organization_id = %s AND pn.sms_enabled GROUP BY 1"
    )
    pairs = sum(sms_status_totals(org).values())
    pair(
        "sms_status_totals",
        lambda: sms_status_totals(org),
        "hand-written GROUP BY",
        lambda: sql(totals_sql, [org.sender_id, org.pk]),
        1.5,
        pairs,
    )
    number = sql("SELECT phone FROM contacts_phonenumber WHERE position = 2 LIMIT 1", [])[0][0]
    typed = f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    under("sms_status_lookup", lambda: sms_status_lookup(org, typed), 10, rows=1, number=typed)
    return figures


def _export_sql(start: str, end: str, org_id: int, sqlite: bool) -> str:
    """The same columns as the CSV export, for the database's own CSV writer."""

    def stage_label(col: str) -> str:
        return (
            f"CASE {col} WHEN 'sending' THEN 'Sending' WHEN 'sent' THEN 'Sent'"
            " WHEN 'ineligible' THEN 'Undelivered' WHEN 'failed' THEN 'Undelivered' ELSE ''"
            f" END, CASE {col} WHEN 'not_sent_yet' THEN 'Not Sent Yet' WHEN 'sending' THEN"
            " 'Sending' WHEN 'sent' THEN 'Sent' WHEN 'ineligible' THEN 'Ineligible to Send'"
            " ELSE 'Failed to Send' END"
        )

    if sqlite:
        when = "strftime('%Y-%m-%d %H:%M:%S', {})"
    else:
        when = f"to_char({{}} AT TIME ZONE '{TZ}', 'YYYY-MM-DD HH24:MI:SS')"
    return (
        f"SELECT {when.format('m.created_at')} AS date, m.broadcast_id, b.name,"
        " c.external_id, c.first_name || ' ' || c.last_name, m.phone,"
        f" {stage_label('m.result')}, m.reason, m.reason, m.carrier_code,"
        f" {when.format('m.delivered_at')} FROM messaging_message m JOIN messaging_broadcast b"
        " ON b.id = m.broadcast_id LEFT JOIN contacts_contact c ON c.id = m.contact_id"
        f" WHERE m.organization_id = {org_id} AND m.created_at >= '{start}'"
        f" AND m.created_at < '{end}' ORDER BY m.created_at DESC, m.id DESC"
    )


def step_bounds(scale: float) -> dict[str, Any]:
    django_setup()
    import datetime as dt

    from schoolsms.accounts.models import Organization
    from schoolsms.reports.selectors import SmsLogFilter, org_today

    org = Organization.objects.get(slug="bench")
    today = org_today(org)
    f = SmsLogFilter(
        organization=org,
        date_from=today - dt.timedelta(days=EXPORT_DAYS),
        date_to=today - dt.timedelta(days=1),
    )
    start, end = f.utc_bounds()
    fmt = "%Y-%m-%d %H:%M:%S"
    whole = SmsLogFilter(organization=org, date_from=dt.date(2000, 1, 1), date_to=today)
    return {
        "org": org.pk,
        "today": str(today),
        "tomorrow": whole.utc_bounds()[1].astimezone(dt.UTC).strftime(fmt),
        "from": str(f.date_from),
        "to": str(f.date_to),
        "start": start.astimezone(dt.UTC).strftime(fmt),
        "end": end.astimezone(dt.UTC).strftime(fmt),
    }


def _export_pair(
    label: str, env: dict[str, str], ours_cmd: list[str], base_cmd: list[str], base_name: str
) -> list[Figure]:
    """Our export process against the database's own CSV writer, same rows; and our peak RSS."""
    ours_file, base_file = VAR / f"ours-{label}.csv", VAR / f"base-{label}.csv"
    with base_file.open("w") as handle:
        started = time.perf_counter()
        subprocess.run(base_cmd, stdout=handle, check=True, env=env)
        base_seconds = time.perf_counter() - started
    ours_seconds, peak = _timed_process([*ours_cmd, "--output", str(ours_file)], env)
    rows = _lines(ours_file) - 1
    assert rows == _lines(base_file) - 1, (rows, _lines(base_file) - 1)
    for path in (ours_file, base_file):
        path.unlink(missing_ok=True)
    mb = peak / 2**20
    return [
        Figure(f"csv_export_{label}", ours_seconds, base_name, base_seconds, 3.0, rows),
        Figure(f"csv_export_{label}_peak_memory_mb", mb, "target 200 MB", 200.0, 1.0, rows),
    ]


def _export_figures(
    label: str, url: str, baseline: list[str], base_name: str, scale: float, full: bool
) -> list[Figure]:
    """The 20-day export (1,000,000 rows at scale 1) and, with `full`, every row there is."""
    env = _env(url)
    b = _child("bounds", scale, url)
    cli = [sys.executable, "-m", "schoolsms", "report", "sms-log", "--org", "bench"]
    cli += ["--format", "csv"]
    sqlite = label == "sqlite"
    windows = [(label, b["from"], b["to"], b["start"], b["end"])]
    if full:
        windows.append((f"{label}_all_rows", "2000-01-01", b["today"], "2000-01-01", b["tomorrow"]))
    figures = []
    for name, first, last, start, end in windows:
        sql = _export_sql(start, end, b["org"], sqlite)
        base_cmd = [part.format(sql=sql) for part in baseline]
        ours_cmd = [*cli, "--from", first, "--to", last]
        figures += _export_pair(name, env, ours_cmd, base_cmd, base_name)
    return figures


def run(scale: float) -> list[Figure]:
    VAR.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    unreachable = pg_database(PG_URL)
    if unreachable:
        print(f"   {unreachable}; skipping the PostgreSQL figures", flush=True)
    else:
        print(f"   preparing PostgreSQL data: {_child('prepare_pg', scale, PG_URL)}", flush=True)
        figures += [Figure(**f) for f in _child("measure", scale, PG_URL)]
        psql = ["psql", PG_URL, "-q", "-c", "\\copy ({sql}) TO STDOUT WITH CSV HEADER"]
        figures += _export_figures("postgresql", PG_URL, psql, "psql \\copy", scale, full=True)
    sqlite_url = f"sqlite:///{SQLITE_PATH}"
    if shutil.which("sqlite3") is None:
        print("   sqlite3 CLI missing (apt-get install -y sqlite3): no SQLite figure", flush=True)
        return figures
    print(f"   preparing SQLite data: {_child('prepare_sqlite', scale, sqlite_url)}", flush=True)
    sqlite = ["sqlite3", "-csv", "-header", str(SQLITE_PATH), "{sql}"]
    figures += _export_figures("sqlite", sqlite_url, sqlite, "sqlite3 -csv", scale, full=False)
    return figures


STEPS = {
    "prepare_pg": step_prepare_pg,
    "prepare_sqlite": step_prepare_sqlite,
    "measure": step_measure,
    "bounds": step_bounds,
}

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in STEPS:
        result = STEPS[sys.argv[1]](float(sys.argv[2]))
        print(json.dumps(result, default=str))
    else:
        for figure in run(float(sys.argv[1]) if len(sys.argv) > 1 else 0.01):
            print(figure)
