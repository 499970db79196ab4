"""`schoolsms contacts import` through call_command and through the real console script."""

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
from schoolsms.contacts.models import Contact

pytestmark = pytest.mark.django_db

GOOD = (
    "external_id,first_name,last_name,phone1,sms1\n"
    "A1,Ann,Lee,(217) 555-0101,yes\n"
    "B2,Bob,Ray,217-555-0102,no\n"
)
BAD = (
    "external_id,first_name,last_name,phone1,sms1\n"
    "A1,Ann,Lee,(217) 555-0101,yes\n"
    "B2,Bob,Ray,555-01,no\n"
    "C3,,Ray,,perhaps\n"
)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "contacts.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_prints_the_summary(org: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    path = write(tmp_path, GOOD)
    call_command("contacts", "import", "--org", "springfield", path, stdout=out)
    assert out.getvalue() == (
        f"Imported {path} into springfield: 2 rows: 2 created, 0 updated, 0 unchanged; "
        "2 phone numbers, 1 new Pending Opt-In.\n"
    )


def test_import_with_bad_rows_lists_them_and_imports_nothing(org: Any, tmp_path: Path) -> None:
    err = io.StringIO()
    path = write(tmp_path, BAD)
    with pytest.raises(CommandError, match="3 problems found; nothing was imported") as info:
        call_command("contacts", "import", "--org", "springfield", path, stderr=err)
    assert info.value.returncode == 1
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"{path}: line 3, phone1 '555-01': ")
    assert lines[1:] == [
        f"{path}: line 4, first_name '': is required",
        f"{path}: line 4, sms1 'perhaps': must be yes/no, true/false or 1/0",
    ]
    assert not Contact.objects.exists()


def test_import_names_a_missing_file_and_an_unknown_org(org: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*nope\.csv: No such file"):
        call_command("contacts", "import", "--org", "springfield", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="--org: no organization with slug 'x'"):
        call_command("contacts", "import", "--org", "x", write(tmp_path, GOOD))


@pytest.mark.django_db(transaction=True)
def test_the_console_script_imports_and_exits_1_on_errors(tmp_path: Path) -> None:
    testing.create_org()
    command = [sys.executable, "-m", "schoolsms", "contacts", "import", "--org", "springfield"]
    env = testing.subprocess_env()
    done = subprocess.run(
        [*command, write(tmp_path, BAD)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "line 4, first_name '': is required" in done.stderr
    assert "3 problems found; nothing was imported" in done.stderr
    assert not Contact.objects.exists()
    done = subprocess.run(
        [*command, write(tmp_path, GOOD)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 created" in done.stdout
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == ["A1", "B2"]
