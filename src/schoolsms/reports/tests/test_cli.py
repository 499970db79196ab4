from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from schoolsms import testing
from schoolsms.reports.exports import SMS_LOG_HEADER, SMS_STATUS_HEADER
from schoolsms.reports.tests.conftest import District, local_noon

pytestmark = pytest.mark.django_db


def report(*args: str) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


def test_sms_log_summary_json_has_every_result_label(district: District) -> None:
    printed = report("sms-log", "--org", "springfield", "--summary", "--format", "json")
    assert json.loads(printed) == {
        "total": 7,
        "by_result": {
            "Not Sent Yet": 1,
            "Sending": 1,
            "Sent": 1,
            "Ineligible to Send": 3,
            "Failed to Send": 1,
        },
        "by_reason": {
            "no_sms_number": 1,
            "opted_out": 1,
            "pending_opt_in": 1,
            "contact_account": 1,
        },
    }
    empty = report(
        "sms-log",
        "--org",
        "shelbyville",
        "--summary",
        "--format",
        "json",
        "--result",
        "Failed to Send",
    )
    assert json.loads(empty) == {
        "total": 0,
        "by_result": dict.fromkeys(
            ["Not Sent Yet", "Sending", "Sent", "Ineligible to Send", "Failed to Send"], 0
        ),
        "by_reason": {},
    }


def test_sms_log_csv_with_filters(district: District) -> None:
    day = local_noon(2).date().isoformat()
    printed = report(
        "sms-log",
        "--org",
        "springfield",
        "--broadcast",
        str(district.snow.id),
        "--from",
        day,
        "--to",
        day,
        "--result",
        "Ineligible to Send",
        "--result",
        "sent",
        "--format",
        "csv",
    )
    rows = list(csv.reader(io.StringIO(printed)))
    assert printed.splitlines()[0] == ",".join(SMS_LOG_HEADER)
    assert sorted(r[7] for r in rows[1:]) == ["Ineligible to Send"] * 3 + ["Sent"]


def test_sms_log_json_table_and_xlsx(district: District, tmp_path: Path) -> None:
    rows = json.loads(report("sms-log", "--org", "springfield", "--format", "json"))
    assert len(rows) == 7 and set(rows[0]) == set(SMS_LOG_HEADER)
    table = report("sms-log", "--org", "springfield", "--search", "okafor")
    assert table.splitlines()[0].startswith("date") and len(table.splitlines()) == 3
    target = tmp_path / "log.xlsx"
    report("sms-log", "--org", "springfield", "--format", "xlsx", "--output", str(target))
    assert openpyxl.load_workbook(target).active.max_row == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30"], "--from '2026-02-30' is not a date (use YYYY-MM-DD)"),
        (["--to", "yesterday"], "--to 'yesterday' is not a date"),
        (["--from", "2026-05-02", "--to", "2026-05-01"], "--from 2026-05-02 is after --to"),
        (["--result", "Delivered"], "--result 'Delivered' is not a delivery result"),
        (["--reason", "rain"], "--reason 'rain' is not a reason code"),
        (["--broadcast", "x"], "--broadcast 'x' is not a broadcast id"),
        (["--format", "xlsx"], "--format xlsx writes a file: add --output FILE"),
    ],
)
def test_sms_log_bad_input_names_the_parameter(
    district: District, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        report("sms-log", "--org", "springfield", *args)


def test_another_orgs_broadcast_and_unknown_org_are_refused(district: District) -> None:
    with pytest.raises(CommandError, match="is not a broadcast of Springfield"):
        report("sms-log", "--org", "springfield", "--broadcast", str(district.other_broadcast.id))
    with pytest.raises(CommandError, match="--org 'nowhere'"):
        report("sms-log", "--org", "nowhere")


def test_sms_status_totals_all_and_lookup(district: District) -> None:
    totals = json.loads(
        report("sms-status", "--org", "springfield", "--totals", "--format", "json")
    )
    # Ben's two numbers count once each; Cal's number has no record and counts as pending.
    assert totals == {"Pending Opt-In": 2, "Opted In": 2, "Opted Out": 1}
    printed = report("sms-status", "--org", "springfield", "--all", "--format", "csv")
    assert printed.splitlines()[0] == ",".join(SMS_STATUS_HEADER)
    assert len(printed.splitlines()) == 6
    found = json.loads(
        report("sms-status", "--org", "springfield", "--lookup", "217.555.0102", "--format", "json")
    )
    assert found["phone"] == "+12175550102"
    assert found["sms_status"] == "Opted Out"
    assert found["blocked"] is False
    assert found["status_changed_at"].startswith(str(local_noon(0).year))
    assert [c["external_id"] for c in found["contacts"]] == ["S200"]
    assert [(h["from"], h["to"], h["text"]) for h in found["history"]] == [
        ("", "Pending Opt-In", ""),
        ("Pending Opt-In", "Opted Out", "STOP"),
    ]
    assert "Opted Out" in report("sms-status", "--org", "springfield", "--lookup", "2175550102")


def _env_for_test_db() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


@pytest.mark.django_db(transaction=True)
def test_unknown_or_invalid_number_exits_1_with_a_clear_message() -> None:
    testing.create_org()
    command = [sys.executable, "-m", "schoolsms", "report", "sms-status", "--org", "springfield"]
    env = _env_for_test_db()
    unknown = subprocess.run(
        [*command, "--lookup", "(217) 555-0177"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1
    assert "+12175550177 is not a number of any contact in Springfield District" in unknown.stderr
    with pytest.raises(CommandError, match="--lookup: '12' is not a valid phone number"):
        report("sms-status", "--org", "springfield", "--lookup", "12")


def test_lookup_in_csv(district: District) -> None:
    printed = report(
        "sms-status", "--org", "springfield", "--lookup", "+12175550104", "--format", "csv"
    )
    rows = list(csv.reader(io.StringIO(printed)))
    assert rows[1][:4] == ["+12175550104", "Opted In", rows[1][2], "yes"]
