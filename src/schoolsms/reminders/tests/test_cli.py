"""The `schoolsms reminders` and `schoolsms flyer` commands, run as a user would run them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from pypdf import PdfReader

from schoolsms.reminders.tests.factories import build_people

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_dry_run_lists_recipients_and_sends_nothing(org: Any, smtp_server: Any):
    build_people(org)
    out = run("reminders", "send", "--org", "springfield", "--dry-run")
    assert "Ana Alvarez <ana@example.org> [es] •••-•••-0101, •••-•••-0102" in out
    assert "Fay Foster <fay@example.org> [en] •••-•••-0111" in out
    assert "bo@example.org" not in out and "olive@" not in out
    assert "Would send: 2" in out
    assert smtp_server.messages == []


def test_send_prints_sent_skipped_and_failed(org: Any, smtp_server: Any):
    build_people(org)
    smtp_server.reject.add("ana@example.org")
    out = run("reminders", "send", "--org", "springfield")
    assert "Sent: 1\nSkipped: 0\nFailed: 1\n" in out
    assert "ana@example.org: 550" in out

    out = run("reminders", "send", "--org", "springfield")
    assert "Sent: 0" in out
    assert (
        "Skipped: 2 (reminded in the last 7 days: 1; address refused by the mail server earlier: 1)"
    ) in out

    out = run("reminders", "send", "--org", "springfield", "--force")
    assert "Sent: 1" in out and "Failed: 1" in out


def test_send_exits_non_zero_when_the_mail_server_goes_away(org: Any, smtp_server: Any):
    build_people(org)
    smtp_server.drop_after = 1
    with pytest.raises(CommandError, match="run it again to send the rest"):
        run("reminders", "send", "--org", "springfield")


def test_bad_input_is_named(org: Any, tmp_path: Path):
    with pytest.raises(CommandError, match="--org: no organization with slug 'nowhere'"):
        run("reminders", "send", "--org", "nowhere")
    with pytest.raises(CommandError, match="--language: 'fr' is not a flyer language"):
        run("flyer", "--org", "springfield", "--language", "fr", "--output", "x.pdf")
    with pytest.raises(CommandError, match=r"--output .*cannot write it"):
        run("flyer", "--org", "springfield", "--output", str(tmp_path / "no" / "x.pdf"))


def test_flyer_command_writes_the_pdf(org: Any, tmp_path: Path):
    target = tmp_path / "flyer.pdf"
    assert "Wrote" in run("flyer", "--org", "springfield", "--output", str(target))
    assert "Text Y to 67587" in PdfReader(target).pages[0].extract_text()


def subprocess_env() -> dict[str, str]:
    """The environment for a `schoolsms` process that uses this test's database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url}


@pytest.mark.slow  # starts a Python process
@pytest.mark.django_db(transaction=True)  # the process reads what this test wrote
def test_flyer_through_a_real_process(org: Any, tmp_path: Path):
    target = tmp_path / "flyer-es.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "schoolsms", "flyer", "--org=springfield", "--language=es",
         f"--output={target}"],
        capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reader = PdfReader(target)
    assert len(reader.pages) == 1
    assert "Envíe Y al 67587" in reader.pages[0].extract_text()
