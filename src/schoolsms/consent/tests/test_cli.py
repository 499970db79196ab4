"""`schoolsms consent import|block|unblock`."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from schoolsms import testing
from schoolsms.consent.models import BlockedNumber, ConsentRecord
from schoolsms.consent.services import consent_change

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("consent", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_block_keeps_the_consent_status_and_unblock_undoes_it(org: Any) -> None:
    consent_change(sender=org.sender, phone="+12175550101", new_status="opted_in", source="web")
    out = run("block", "--org", "springfield", "(217) 555-0101", "--reason", "asked by phone")
    assert out == "Blocked (217) 555-0101 for springfield.\nConsent status unchanged: Opted In.\n"
    blocked = BlockedNumber.objects.get(organization=org)
    assert (blocked.phone, blocked.reason) == ("+12175550101", "asked by phone")
    assert ConsentRecord.objects.get(phone="+12175550101").status == "opted_in"
    assert "was already blocked" in run("block", "--org", "springfield", "+1 217 555 0101")
    assert run("unblock", "--org", "springfield", "217.555.0101").startswith("Unblocked")
    assert not BlockedNumber.objects.exists()
    assert "was not blocked" in run("unblock", "--org", "springfield", "2175550101")
    assert ConsentRecord.objects.get(phone="+12175550101").status == "opted_in"


def test_block_is_per_organization(org: Any, other_org: Any) -> None:
    run("block", "--org", "shelbyville", "2175550101")
    assert list(BlockedNumber.objects.values_list("organization__slug", flat=True)) == [
        "shelbyville"
    ]


def test_block_refuses_a_bad_number(org: Any) -> None:
    with pytest.raises(CommandError, match="NUMBER: '555-01' is not"):
        run("block", "--org", "springfield", "555-01")


def test_import_prints_the_summary_and_errors(org: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("phone,sms_status\n2175550101,opted_in\n2175550102,opted_out\n")
    out = run("import", "--org", "springfield", str(good))
    assert out == (
        f"Imported {good} into sender 67587 (springfield): 2 rows: 2 changed, 0 unchanged.\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("phone,sms_status\n2175550101,opted_out\n2175550103,maybe\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem found; nothing was imported"):
        call_command("consent", "import", "--org", "springfield", str(bad), stderr=err)
    assert err.getvalue() == (
        f"{bad}: line 3, sms_status 'maybe': must be one of pending, opted_in, opted_out\n"
    )
    assert ConsentRecord.objects.get(phone="+12175550101").status == "opted_in"


@pytest.mark.django_db(transaction=True)
def test_the_console_script_blocks_a_number(tmp_path: Path) -> None:
    org = testing.create_org()
    done = subprocess.run(
        [sys.executable, "-m", "schoolsms", "consent", "block", "--org", "springfield",
         "(217) 555-0199", "--reason", "wrong number"],
        env=testing.subprocess_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Consent status unchanged: no consent record." in done.stdout
    assert BlockedNumber.objects.get(organization=org).phone == "+12175550199"
