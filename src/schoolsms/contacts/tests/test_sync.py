"""The nightly sync: bundles dropped in the folder are imported by the real worker loop, oldest
first, once, and filed in done/ or failed/ with a report; a large inactivation waits."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from schoolsms.contacts.jobs import import_job_confirm, import_job_discard
from schoolsms.contacts.models import Contact, ImportJob, ImportStatus
from schoolsms.contacts.sync import (
    drop_folder_waiting,
    roster_folders_check,
    roster_settings_update,
)
from schoolsms.contacts.tasks import import_job_enqueue
from schoolsms.contacts.tests.rosters import bundle, user
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = pytest.mark.django_db

PEOPLE = [user(f"p{i}", "Pat", f"N{i}", sms=f"217555{i:04d}") for i in range(10)]


def drop(folder: Path, name: str, data: bytes, *, age: float) -> Path:
    path = folder / name
    path.write_bytes(data)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def folder(org: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any) -> Path:
    roster_settings_update(organization=org, folder=str(tmp_path))
    return tmp_path


def sync(capture: Any) -> None:
    run_worker(horizon=0)


def test_bundles_are_imported_oldest_first_once_and_filed_with_a_report(
    org: Any, folder: Path, django_capture_on_commit_callbacks: Any
) -> None:
    drop(folder, "b-tuesday.zip", bundle([*PEOPLE[:9], user("new", "Kim", "Park")]), age=100)
    drop(folder, "a-monday.zip", bundle(PEOPLE), age=200)
    drop(folder, "c-broken.zip", bundle([user("x", "", "Y")]), age=50)
    drop(folder, "d-uploading.zip.part", b"PK", age=500)
    drop(folder, "e-too-new.zip", bundle(PEOPLE), age=0)
    for _ in range(3):
        sync(django_capture_on_commit_callbacks)
    jobs = list(ImportJob.objects.order_by("id").values_list("filename", "status"))
    assert jobs == [("a-monday.zip", "done"), ("b-tuesday.zip", "done"), ("c-broken.zip", "failed")]
    assert sorted(p.name for p in (folder / "done").iterdir()) == [
        "a-monday.zip", "a-monday.zip.report.txt", "b-tuesday.zip", "b-tuesday.zip.report.txt"
    ]  # fmt: skip
    report = (folder / "failed" / "c-broken.zip.report.txt").read_text()
    assert "users.csv line 2, givenName '': is required" in report
    assert "nothing was imported" in report
    tuesday = (folder / "done" / "b-tuesday.zip.report.txt").read_text()
    assert "created: 1" in tuesday and "inactivated: 1" in tuesday
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
        "d-uploading.zip.part", "e-too-new.zip"
    ]  # fmt: skip
    assert dict(Contact.objects.values_list("external_id", "active"))["p9"] is False
    sync(django_capture_on_commit_callbacks)  # nothing new: nothing runs again
    assert ImportJob.objects.count() == 3


def test_a_sync_inactivating_too_many_waits_for_an_admin(
    org: Any, folder: Path, django_capture_on_commit_callbacks: Any
) -> None:
    drop(folder, "1-full.zip", bundle(PEOPLE), age=300)
    drop(folder, "2-half.zip", bundle(PEOPLE[:5]), age=200)
    drop(folder, "3-next.zip", bundle(PEOPLE), age=100)
    sync(django_capture_on_commit_callbacks)
    sync(django_capture_on_commit_callbacks)
    held = ImportJob.objects.get(filename="2-half.zip")
    assert held.status == ImportStatus.CONFIRM
    assert "5 of 10 active contacts inactive (50%" in held.message
    assert Contact.objects.filter(active=True).count() == 10
    # Later bundles wait behind it, in order.
    assert (folder / "3-next.zip").exists()
    assert drop_folder_waiting(folder) == [folder / "3-next.zip"]
    assert import_job_confirm(job=held)
    import_job_enqueue(job=held)
    sync(django_capture_on_commit_callbacks)
    held.refresh_from_db()
    assert held.status == ImportStatus.DONE and held.summary["inactivated"] == 5
    assert (folder / "done" / "2-half.zip").exists()
    sync(django_capture_on_commit_callbacks)
    # 3-next brings all ten back (reactivating is never held).
    assert ImportJob.objects.get(filename="3-next.zip").status == ImportStatus.DONE
    assert Contact.objects.filter(active=True).count() == 10


def test_a_held_sync_can_be_discarded(
    org: Any, folder: Path, django_capture_on_commit_callbacks: Any
) -> None:
    drop(folder, "1-full.zip", bundle(PEOPLE), age=300)
    drop(folder, "2-empty.zip", bundle(PEOPLE[:1]), age=200)
    sync(django_capture_on_commit_callbacks)
    sync(django_capture_on_commit_callbacks)
    held = ImportJob.objects.get(filename="2-empty.zip")
    assert import_job_discard(job=held)
    assert (folder / "failed" / "2-empty.zip").exists()
    assert "Discarded" in (folder / "failed" / "2-empty.zip.report.txt").read_text()
    assert Contact.objects.filter(active=True).count() == 10


def test_an_import_its_worker_died_in_fails_and_the_sync_goes_on(
    org: Any, folder: Path, django_capture_on_commit_callbacks: Any
) -> None:
    drop(folder, "1-first.zip", bundle(PEOPLE), age=300)
    drop(folder, "2-second.zip", bundle(PEOPLE), age=200)
    roster_folders_check()
    job = ImportJob.objects.get()
    assert (folder / "processing" / "1-first.zip").exists()
    # The worker took it, then died: the job stays "checking" and would block the folder.
    started = timezone.now() - dt.timedelta(hours=3)
    ImportJob.objects.filter(pk=job.pk).update(status="checking", started_at=started)
    DBTaskResult.objects.all().delete()
    sync(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == "failed" and "the worker stopped" in job.message
    assert (folder / "failed" / "1-first.zip.report.txt").exists()
    assert ImportJob.objects.get(filename="2-second.zip").status == "done"
