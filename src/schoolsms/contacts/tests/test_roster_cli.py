"""`schoolsms contacts import` with a OneRoster bundle, and `schoolsms contacts watch`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from schoolsms.contacts.models import Contact, RosterSettings
from schoolsms.contacts.tests.rosters import bundle, user

pytestmark = pytest.mark.django_db

PEOPLE = [user(f"p{i}", "Pat", f"N{i}", sms=f"217555{i:04d}") for i in range(5)]


def test_a_bundle_is_recognised_by_its_content_whatever_its_name(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "nightly-export.dat"
    path.write_bytes(bundle(PEOPLE))
    out = io.StringIO()
    call_command("contacts", "import", "--org", "springfield", str(path), stdout=out)
    assert out.getvalue() == (
        f"Imported {path} into springfield: 5 rows: 5 created, 0 updated, 0 unchanged; "
        "5 phone numbers, 5 new Pending Opt-In.\n"
    )


def test_bundle_errors_name_file_line_and_column(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "roster.zip"
    path.write_bytes(bundle([user("p1", "", "N", role="janitor")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problems found; nothing was imported"):
        call_command("contacts", "import", "--org", "springfield", str(path), stderr=err)
    assert err.getvalue().splitlines()[0] == f"{path}: users.csv line 2, givenName '': is required"
    assert not Contact.objects.exists()


def test_too_many_inactivated_needs_the_confirm_flag(org: Any, tmp_path: Path) -> None:
    full, half = tmp_path / "full.zip", tmp_path / "half.zip"
    full.write_bytes(bundle(PEOPLE))
    half.write_bytes(bundle(PEOPLE[:2]))
    call_command("contacts", "import", "--org", "springfield", str(full), stdout=io.StringIO())
    with pytest.raises(
        CommandError, match=r"3 of 5 active contacts inactive \(60%.*--confirm-inac"
    ):
        call_command("contacts", "import", "--org", "springfield", str(half))
    assert Contact.objects.filter(active=True).count() == 5
    out = io.StringIO()
    call_command("contacts", "import", "--org", "springfield", "--confirm-inactivation",
                 str(half), stdout=out)  # fmt: skip
    assert "3 made inactive" in out.getvalue()
    assert Contact.objects.filter(active=True).count() == 2


def test_watch_names_the_drop_folder_and_checks_it(org: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("contacts", "watch", "--org", "springfield", "--folder", str(tmp_path),
                 "--language-column", "metadata.lang", "--inactivate-limit", "30",
                 stdout=out)  # fmt: skip
    assert f"OneRoster bundles dropped in {tmp_path}" in out.getvalue()
    settings = RosterSettings.objects.get(organization=org)
    assert (settings.folder, settings.language_column, settings.inactivate_limit_percent) == (
        str(tmp_path), "metadata.lang", 30)  # fmt: skip
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("contacts", "watch", "--org", "springfield", "--folder", str(tmp_path / "x"))
    with pytest.raises(CommandError, match=r"must be a users\.csv metadata column"):
        call_command("contacts", "watch", "--org", "springfield", "--language-column", "lang")
    call_command("contacts", "watch", "--org", "springfield", "--off", stdout=out)
    assert RosterSettings.objects.get(organization=org).folder == ""
