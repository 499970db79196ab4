"""`schoolsms prune`: old message rows archived (SMS Log columns, per organization and month),
then deleted; consent history kept; a crash between archive and delete loses and doubles nothing."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from schoolsms import testing
from schoolsms.consent.models import ConsentRecord
from schoolsms.core import retention
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, run_worker

HISTORY_MODELS = [m for m in ConsentRecord._meta.apps.get_app_config("consent").get_models()]


def _history_count() -> int:
    return sum(m.objects.count() for m in HISTORY_MODELS)


def _sent_broadcast(org: Any, text: str, completed_days_ago: float) -> Broadcast:
    broadcast = make_broadcast(org, text=text)
    run_worker()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE
    completed = timezone.now() - dt.timedelta(days=completed_days_ago)
    Broadcast.objects.filter(pk=broadcast.pk).update(completed_at=completed)
    Message.objects.filter(broadcast=broadcast).update(created_at=completed)
    return broadcast


def _archive_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def audience(org: Any) -> None:
    testing.create_contact(org, "s1", ["+12175550101"], consent="opted_in")
    testing.create_contact(org, "s2", ["+12175550102"], consent="pending")
    testing.create_contact(org, "s3", ["+12175550103"], consent="opted_in", first_name="=HYPERLINK")


def test_prune_archives_then_deletes_old_rows_only(
    org: Any, audience: None, tmp_path: Path
) -> None:
    old = _sent_broadcast(org, "Old news", completed_days_ago=100)
    recent = _sent_broadcast(org, "Fresh news", completed_days_ago=1)
    history = _history_count()
    out = StringIO()
    call_command("prune", "--older-than", "30", "--archive-dir", str(tmp_path), stdout=out)
    assert "3 row(s) archived" in out.getvalue()
    assert not Message.objects.filter(broadcast=old).exists()
    assert Message.objects.filter(broadcast=recent).count() == 3
    assert _history_count() == history  # consent evidence is never pruned
    files = list(tmp_path.rglob("*.csv.gz"))
    month = (timezone.now() - dt.timedelta(days=100)).astimezone(ZoneInfo(org.timezone))
    assert [f.name for f in files] == [f"{org.slug}-{month:%Y-%m}.csv.gz"]
    rows = _archive_rows(files[0])
    assert sorted(r["phone"] for r in rows) == ["+12175550101", "+12175550102", "+12175550103"]
    assert {r["broadcast_id"] for r in rows} == {str(old.pk)}
    assert {r["delivery_result"] for r in rows} == {"Sent", "Ineligible to Send"}
    assert any(r["contact_name"].startswith("'") for r in rows)  # formula-protected like exports


def test_a_crash_between_archive_and_delete_is_finished_next_time(
    org: Any, audience: None, tmp_path: Path, monkeypatch: Any
) -> None:
    _sent_broadcast(org, "First", completed_days_ago=100)
    second = _sent_broadcast(org, "Second", completed_days_ago=99)

    def crash(ids: list[int]) -> int:
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(retention, "messages_delete", crash)
    with pytest.raises(KeyboardInterrupt):
        retention.prune(older_than_days=30, archive_dir=tmp_path)
    assert Message.objects.count() == 6  # nothing deleted yet
    monkeypatch.undo()
    report = retention.prune(older_than_days=30, archive_dir=tmp_path)
    assert report.deleted_rows == 6 and report.archived_rows == 0
    assert Message.objects.count() == 0
    rows = [r for f in tmp_path.rglob("*.csv.gz") for r in _archive_rows(f)]
    assert len(rows) == 6  # each row archived exactly once
    assert sum(r["broadcast_id"] == str(second.pk) for r in rows) == 3
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_later_prune_adds_to_the_months_file(org: Any, audience: None, tmp_path: Path) -> None:
    _sent_broadcast(org, "First", completed_days_ago=100)
    retention.prune(older_than_days=30, archive_dir=tmp_path)
    _sent_broadcast(org, "Second", completed_days_ago=100)
    retention.prune(older_than_days=30, archive_dir=tmp_path)
    files = list(tmp_path.rglob("*.csv.gz"))
    assert len(files) == 1 and len(_archive_rows(files[0])) == 6


def test_prune_refuses_bad_arguments(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--older-than: at least 1 day"):
        call_command("prune", "--older-than", "0", "--archive-dir", str(tmp_path))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CommandError, match="--archive-dir"):
        call_command("prune", "--older-than", "5", "--archive-dir", str(blocker / "sub"))


def test_the_worker_prunes_daily_when_retention_is_set(
    org: Any, audience: None, tmp_path: Path, settings: Any
) -> None:
    _sent_broadcast(org, "Old", completed_days_ago=50)
    settings.SCHOOLSMS_RETENTION_DAYS = 30
    settings.SCHOOLSMS_ARCHIVE_DIR = str(tmp_path)
    run_worker()
    assert Message.objects.count() == 0
    assert len(list(tmp_path.rglob("*.csv.gz"))) == 1
