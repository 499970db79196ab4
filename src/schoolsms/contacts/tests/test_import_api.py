"""The API import: a small CSV answered at once, a large file (or a bundle, or `Prefer:
respond-async`) run by the worker and polled as JSON, the upload limit, and whose imports a
token sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.consent.models import ConsentRecord
from schoolsms.contacts.importapi import AT_ONCE_BYTES
from schoolsms.contacts.models import Contact, ImportJob, ImportStatus
from schoolsms.contacts.tests.rosters import bundle, user
from schoolsms.contacts.tests.serve_import import contacts_csv
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = pytest.mark.django_db

HEADER = "external_id,first_name,last_name,phone1\n"


@pytest.fixture
def api(client: Any, admin_user: Any) -> Any:
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token_create(user=admin_user)}"
    return client


def _post(api: Any, data: bytes, name: str = "roster.csv", **headers: str) -> Any:
    return api.post("/api/v1/contacts/import", {"file": SimpleUploadedFile(name, data)}, **headers)


def test_a_small_file_is_answered_at_once_and_recorded_as_an_import(
    api: Any, org: Any, admin_user: Any
) -> None:
    response = _post(api, (HEADER + "A1,Ana,Diaz,217-555-0170\n").encode())
    assert response.status_code == 200
    assert response.json()["created"] == 1
    job = ImportJob.objects.get()
    assert (job.status, job.source, job.created_by) == (ImportStatus.DONE, "web", admin_user)
    assert not Path(job.path).exists()  # the upload holds families' numbers: deleted


def test_a_large_file_is_imported_by_the_worker_and_polled(
    api: Any, org: Any, tmp_path: Path
) -> None:
    data = contacts_csv(tmp_path / "district.csv", 12_000).read_bytes()
    assert len(data) > AT_ONCE_BYTES
    response = _post(api, data, "district.csv")
    assert response.status_code == 202, response.content[:300]
    body = response.json()
    assert response["Location"] == body["url"] == f"/api/v1/contacts/imports/{body['id']}"
    assert (body["status"], body["filename"], body["summary"]) == ("queued", "district.csv", None)
    assert not Contact.objects.exists()  # nothing yet: the web request only kept the file

    run_worker(horizon=0)
    done = api.get(body["url"]).json()
    assert done["status"] == "done" and done["status_label"] == "Imported"
    assert done["rows_done"] == done["rows_total"] == 12_000
    assert done["summary"]["created"] == 12_000 and done["summary"]["pending_created"] == 12_000
    assert done["finished_at"] is not None and done["errors"] == []
    assert Contact.objects.filter(organization=org).count() == 12_000


def test_prefer_respond_async_and_a_failed_import_lists_its_rows(api: Any, org: Any) -> None:
    data = (HEADER + "A1,Ana,Diaz,217-555-0170\nA2,Bo,Lee,12\nA3,,Ng,\n").encode()
    response = _post(api, data, HTTP_PREFER="respond-async, wait=5")
    assert response.status_code == 202
    run_worker(horizon=0)
    failed = api.get(response["Location"]).json()
    assert failed["status"] == "failed" and failed["summary"] is None
    assert failed["error_count"] == 2
    assert [(e["line"], e["field"], e["value"]) for e in failed["errors"]] == [
        (3, "phone1", "12"),
        (4, "first_name", ""),
    ]
    assert not Contact.objects.exists() and not ConsentRecord.objects.exists()


def test_an_answer_at_once_lists_the_first_200_problems_and_counts_them_all(
    api: Any, org: Any
) -> None:
    rows = "".join(f"A{i},Ana,Diaz,12\n" for i in range(300))
    response = _post(api, (HEADER + rows).encode())
    assert response.status_code == 422
    body = response.json()
    assert body["error_count"] == 300 and len(body["errors"]) == 200
    assert body["detail"] == "nothing was imported: 300 problem(s) in the file"
    assert not Contact.objects.exists()


def test_a_oneroster_bundle_is_imported_by_the_worker(api: Any, org: Any) -> None:
    people = [user("s1", "Maya", "Lopez", "student", agentSourcedIds="g1"),
              user("g1", "Rosa", "Lopez", "guardian", sms="2175550101")]  # fmt: skip
    response = _post(api, bundle(people), "export.zip")
    assert response.status_code == 202 and response.json()["kind"] == "oneroster"
    run_worker(horizon=0)
    done = api.get(response["Location"]).json()
    assert done["status"] == "done" and done["summary"]["links_added"] == 1


def test_a_file_over_the_limit_is_refused_naming_it_and_nothing_is_kept(
    api: Any, org: Any, settings: Any, tmp_path: Path
) -> None:
    settings.SCHOOLSMS_MAX_UPLOAD_MB = 1
    settings.IMPORTS_DIR = tmp_path / "imports"
    response = _post(api, HEADER.encode() + b"x" * (1 << 20))
    assert response.status_code == 413
    assert response.json()["detail"].startswith(
        "The file is larger than the 1 MB upload limit, so it was not read."
    )
    assert not ImportJob.objects.exists()
    assert not settings.IMPORTS_DIR.exists() or not any(settings.IMPORTS_DIR.iterdir())


def test_a_token_sees_only_its_organizations_imports_and_only_as_an_admin(
    client: Any, org: Any, other_org: Any, admin_user: Any
) -> None:
    theirs = ImportJob.objects.create(organization=other_org, kind="contacts", source="web",
                                      filename="theirs.csv", path="/nonexistent")  # fmt: skip
    ours = ImportJob.objects.create(organization=org, kind="contacts", source="web",
                                    filename="ours.csv", path="/nonexistent")  # fmt: skip
    admin = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=admin_user)}"}
    assert client.get(f"/api/v1/contacts/imports/{ours.pk}", **admin).status_code == 200
    assert client.get(f"/api/v1/contacts/imports/{theirs.pk}", **admin).status_code == 404
    viewer = testing.create_user(org, "viewer@springfield.example.org", "viewer")
    as_viewer = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=viewer)}"}
    assert client.get(f"/api/v1/contacts/imports/{ours.pk}", **as_viewer).status_code == 404
