from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from schoolsms import testing
from schoolsms.consent.services import number_block
from schoolsms.messaging import services
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.tests.helpers import add_messages, make_audience

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("broadcast", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_send_prints_the_new_id_alone_on_stdout(org: Any) -> None:
    make_audience(org)
    out, err = run(
        "send",
        "--org",
        "springfield",
        "--name",
        "Snow day",
        "--message",
        "Closed today",
        "--role",
        "guardian",
        "--school",
        "Lincoln Elementary",
        "--school",
        "Roosevelt High",
        "--emergency",
    )
    broadcast = Broadcast.objects.get()
    assert out == f"{broadcast.pk}\n"
    assert "3 contact(s), 4 SMS number(s); queued to send now (emergency)" in err
    assert broadcast.status == BroadcastStatus.SCHEDULED
    assert broadcast.emergency
    assert broadcast.audience_roles == ["guardian"]
    assert broadcast.audience_schools == ["Lincoln Elementary", "Roosevelt High"]


def test_send_at_a_local_time_and_with_a_contacts_file(org: Any, tmp_path: Path) -> None:
    make_audience(org)
    contacts = tmp_path / "ids.csv"
    contacts.write_text("external_id,name\nS1,Ann\nT1,Tom\n")
    run(
        "send",
        "--org=springfield",
        "--name=Picture day",
        "--message=Smile",
        f"--contacts={contacts}",
        "--at=2099-09-01T07:30",
    )
    broadcast = Broadcast.objects.get()
    assert broadcast.audience_external_ids == ["S1", "T1"]
    local = dt.datetime(2099, 9, 1, 7, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert broadcast.scheduled_at == local


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org=nowhere"], "--org: no organization with slug 'nowhere'"),
        (["--at=tomorrow"], "--at 'tomorrow' is not an ISO date-time"),
        (["--contacts=/nonexistent/ids.txt"], "--contacts /nonexistent/ids.txt: cannot read it"),
        (["--role=parent"], "unknown role parent"),
        (["--message=" + "x" * 470], "the message is 4 SMS segments long"),
    ],
)
def test_send_refuses_bad_input(org: Any, args: list[str], message: str) -> None:
    base = {"--org": "springfield", "--name": "N", "--message": "Hi"}
    given = {a.split("=", 1)[0] for a in args}
    argv = [f"{k}={v}" for k, v in base.items() if k not in given] + args
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run("send", *argv)
    assert not Broadcast.objects.exists()


def test_contacts_file_with_unknown_ids_names_them(org: Any, tmp_path: Path) -> None:
    make_audience(org)
    ids = tmp_path / "ids.txt"
    ids.write_text("S1\nGHOST-1\nGHOST-2\n")
    with pytest.raises(CommandError, match=r"2 external ids are not contacts .*: GHOST-1, GHOST-2"):
        run("send", "--org=springfield", "--name=N", "--message=Hi", f"--contacts={ids}")


def test_cancel(org: Any) -> None:
    broadcast = services.broadcast_create(organization=org, name="N", text="Hi")
    out, _ = run("cancel", str(broadcast.pk))
    assert out == f"Broadcast {broadcast.pk} canceled.\n"
    with pytest.raises(CommandError, match="is already canceled"):
        run("cancel", str(broadcast.pk))
    with pytest.raises(CommandError, match="no broadcast with id 999999"):
        run("cancel", "999999")


def test_show_prints_counts_per_result_and_reason(org: Any) -> None:
    broadcast = services.broadcast_create(organization=org, name="Snow day", text="Hi")
    add_messages(broadcast, DeliveryResult.SENT, n=4)
    add_messages(broadcast, DeliveryResult.FAILED_TO_SEND, Reason.NO_SMS_CAPABILITY)
    out, _ = run("show", str(broadcast.pk))
    lines = out.splitlines()
    assert lines[0] == f"Broadcast {broadcast.pk} · Snow day · springfield · Draft"
    assert "  Sent                        4" in lines
    assert "  Failed to Send              1" in lines
    assert "  Total                       5" in lines
    assert any(line.startswith("  no_sms_capability           1  The phone") for line in lines)
    counts = json.loads(run("show", str(broadcast.pk), "--format", "json")[0])
    assert counts["by_result"]["Sent"] == 4 and counts["by_reason"]["no_sms_capability"] == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_end_to_end_send_then_a_worker_process_then_show_in_a_process(org: Any) -> None:
    make_audience(org)  # 5 opted-in numbers, and T2 with no SMS-enabled number
    testing.create_contact(org, "G1", ["+12025550107"], consent="opted_out")
    testing.create_contact(org, "G2", ["+12025550108"], consent="opted_in")
    number_block(organization=org, phone="+12025550108")
    out, _ = run("send", "--org=springfield", "--name=Snow day", "--message=Closed today")
    broadcast_id = out.strip()

    worker = subprocess.run(
        [sys.executable, "-m", "schoolsms", "worker", "--until-idle"],
        env=testing.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr

    show = subprocess.run(
        [sys.executable, "-m", "schoolsms", "broadcast", "show", broadcast_id, "--format=json"],
        env=testing.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert show.returncode == 0, show.stderr
    counts = json.loads(show.stdout)
    assert counts["total"] == 8
    assert counts["by_result"] == {
        "Not Sent Yet": 0,
        "Sending": 0,
        "Sent": 5,
        "Ineligible to Send": 3,
        "Failed to Send": 0,
    }
    reasons = {code: n for code, n in counts["by_reason"].items() if n}
    assert reasons == {"no_sms_number": 1, "opted_out": 1, "blocked": 1}
    text = run("show", broadcast_id)[0]
    assert "· Complete" in text.splitlines()[0]
    assert "  Sent                        5" in text
