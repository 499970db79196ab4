"""The import page: uploads run in the background with live progress, capped error pages, the
upload limit, held rosters, the sync settings, and what the Contacts pages show of a roster."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.consent.models import ConsentRecord
from schoolsms.contacts.models import Contact, ImportJob, ImportStatus
from schoolsms.contacts.tests.rosters import bundle, user
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = pytest.mark.django_db


def upload(client: Any, data: bytes, name: str, kind: str = "contacts") -> Any:
    file = io.BytesIO(data)
    file.name = name
    return client.post("/contacts/import/", {"kind": kind, "file": file})


def imported(client: Any, data: bytes, name: str, kind: str = "contacts") -> tuple[Any, str]:
    """Upload, let the real worker loop run the job, and read the job's page."""
    response = upload(client, data, name, kind)
    assert response.status_code == 302, response.content.decode()[:500]
    job = ImportJob.objects.latest("id")
    assert response["Location"] == f"/contacts/import/{job.pk}/"
    assert job.status == ImportStatus.QUEUED
    run_worker(horizon=0)
    page = client.get(response["Location"])
    return page, page.content.decode()


GOOD = (
    "external_id,first_name,last_name,role,school,phone1,sms1\n"
    "A1,Ana,García,guardian,Lincoln,(217) 555-0142,yes\n"
    "A2,Bo,Nguyen,staff,Central,217-555-0150,no\n"
).encode()


def test_an_upload_is_imported_by_the_worker_and_the_page_shows_the_summary(
    admin_client: Any, org: Any
) -> None:
    page, html = imported(admin_client, GOOD, "roster.csv")
    assert "Imported roster.csv" in html
    job = page.context["job"]
    assert job.status == "done"
    assert (job.summary["rows"], job.summary["created"], job.summary["pending_created"]) == (
        2,
        2,
        1,
    )
    assert "hx-get" not in html  # finished: no more polling
    assert Contact.objects.filter(organization=org).count() == 2
    # The upload is deleted once imported: it holds families' numbers.
    assert not Path(job.path).exists()


def test_while_it_runs_the_page_polls_its_progress(admin_client: Any, org: Any) -> None:
    response = upload(admin_client, GOOD, "roster.csv")
    page = admin_client.get(response["Location"]).content.decode()
    job = ImportJob.objects.get()
    assert f'hx-get="/contacts/import/{job.pk}/progress/"' in page
    assert "Waiting for the background worker" in page
    ImportJob.objects.filter(pk=job.pk).update(status="checking", rows_total=1000, rows_done=250)
    partial = admin_client.get(f"/contacts/import/{job.pk}/progress/").content.decode()
    assert '<progress value="250" max="1000"' in partial
    assert "250 of about 1,000 rows checked" in partial
    assert '<span class="badge" data-role="status">Checking rows</span>' in partial
    # Every row is good; the worker writes them in one transaction: the badge says so too.
    ImportJob.objects.filter(pk=job.pk).update(status="saving", rows_total=998, rows_done=998)
    partial = admin_client.get(f"/contacts/import/{job.pk}/progress/").content.decode()
    assert '<span class="badge" data-role="status">Saving</span>' in partial
    assert '<progress value="998" max="998"' in partial
    assert "All 998 rows checked; saving them…" in partial
    assert 'hx-trigger="every 1s"' in partial  # still polling until it is done


def test_a_failed_import_lists_every_bad_row_and_changes_nothing(
    admin_client: Any, org: Any
) -> None:
    csv = (
        "external_id,first_name,last_name,phone1\n"
        "A1,Ana,García,(217) 555-0142\n"
        "A2,Bo,Nguyen,not-a-phone\n"
        "A3,,Adams,\n"
    ).encode()
    page, html = imported(admin_client, csv, "roster.csv")
    assert [(e["line"], e["field"]) for e in page.context["job"].errors] == [
        (3, "phone1"),
        (4, "first_name"),
    ]
    assert "Nothing was imported: 2 problems in roster.csv" in html
    assert "not-a-phone" in html
    assert not Contact.objects.exists() and not ConsentRecord.objects.exists()


def test_fifty_thousand_unknown_columns_make_a_short_error_page(
    admin_client: Any, org: Any
) -> None:
    header = ",".join(["external_id", "first_name", "last_name"] + [f"x{i}" for i in range(50_000)])
    page, html = imported(admin_client, (header + "\nA1,Ana,Lee\n").encode(), "wide.csv")
    assert "Nothing was imported: 50,000 problems in wide.csv" in html
    assert html.count("<tr>") == 201  # the header row and the first 200 problems
    assert "and 49,800 more problems not listed" in html
    assert "50,000 \u00d7 unknown column" in html  # summarised, not 50,000 rows
    assert len(page.content) < 150_000


def test_consent_statuses_import_through_the_same_page(admin_client: Any, org: Any) -> None:
    csv = b"phone,sms_status,changed_at\n(217) 555-0142,opted_in,2025-06-01\n"
    _, html = imported(admin_client, csv, "consent.csv", kind="consent")
    assert "Imported consent.csv" in html and "SMS statuses changed" in html
    assert ConsentRecord.objects.get(phone="+12175550142").status == "opted_in"


def test_a_oneroster_bundle_imports_through_the_page(admin_client: Any, org: Any) -> None:
    people = [user("s1", "Maya", "Lopez", "student", agentSourcedIds="g1"),
              user("g1", "Rosa", "Lopez", "guardian", sms="2175550101")]  # fmt: skip
    page, html = imported(admin_client, bundle(people), "export.zip")
    assert "Imported export.zip" in html
    assert page.context["job"].kind == "oneroster"
    assert page.context["job"].summary["links_added"] == 1


def test_a_broken_bundle_names_file_line_and_column(admin_client: Any, org: Any) -> None:
    _, html = imported(admin_client, bundle([user("s1", "", "Lopez", "student")]), "x.zip")
    assert "<td>users.csv</td><td>2</td><td><code>givenName</code></td>" in html


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    admin_client: Any, org: Any, settings: Any
) -> None:
    settings.SCHOOLSMS_MAX_UPLOAD_MB = 1
    response = upload(
        admin_client, b"external_id,first_name,last_name\n" + b"x" * (1 << 20), "big.csv"
    )
    assert response.status_code == 413
    assert "larger than the 1 MB upload limit" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_roster_held_for_its_inactivations_is_confirmed_or_discarded_on_its_page(
    admin_client: Any, org: Any
) -> None:
    people = [user(f"p{i}", "Pat", f"N{i}") for i in range(10)]
    imported(admin_client, bundle(people), "full.zip")
    page, html = imported(admin_client, bundle(people[:5]), "half.zip")
    job = page.context["job"]
    assert job.status == "confirm"
    assert "This roster waits for an admin" in html and "5 of 10 active contacts" in html
    admin_client.post(f"/contacts/import/{job.pk}/decide/", {"decision": "confirm"})
    run_worker(horizon=0)
    job.refresh_from_db()
    assert job.status == "done" and Contact.objects.filter(active=True).count() == 5

    page, _ = imported(admin_client, bundle(people[:1]), "one.zip")
    held = page.context["job"]
    admin_client.post(f"/contacts/import/{held.pk}/decide/", {"decision": "discard"})
    held.refresh_from_db()
    assert held.status == "discarded" and Contact.objects.filter(active=True).count() == 5


def test_another_organizations_import_is_not_found(
    admin_client: Any, org: Any, other_org: Any
) -> None:
    theirs = ImportJob.objects.create(organization=other_org, kind="contacts", source="web",
                                      filename="theirs.csv", path="/nonexistent")  # fmt: skip
    assert admin_client.get(f"/contacts/import/{theirs.pk}/").status_code == 404
    assert admin_client.get(f"/contacts/import/{theirs.pk}/progress/").status_code == 404
    assert admin_client.post(f"/contacts/import/{theirs.pk}/decide/").status_code == 404


def test_viewers_cannot_import(client: Any, org: Any) -> None:
    client.force_login(testing.create_user(org, "viewer@springfield.example.org", "viewer"))
    assert upload(client, GOOD, "roster.csv").status_code == 403
    assert not ImportJob.objects.exists()


def test_sync_settings_are_saved_and_checked(
    admin_client: Any, org: Any, tmp_path: Any, settings: Any
) -> None:
    settings.SCHOOLSMS_DROP_ROOT = tmp_path
    outside = admin_client.post(
        "/contacts/sync/", {"folder": "/etc", "language_column": "", "inactivate_limit_percent": 20}
    )
    assert f"must be inside {tmp_path}" in outside.content.decode()
    response = admin_client.post("/contacts/sync/", {"folder": str(tmp_path),
                                 "language_column": "metadata.language",
                                 "inactivate_limit_percent": "25"})  # fmt: skip
    assert response.status_code == 302
    page = admin_client.get("/contacts/sync/").content.decode()
    assert str(tmp_path) in page and "metadata.language" in page
    bad = admin_client.post("/contacts/sync/", {"folder": "relative/dir",
                            "language_column": "", "inactivate_limit_percent": "20"})  # fmt: skip
    assert "must be an absolute path" in bad.content.decode()
    assert "Roster sync" in admin_client.get("/settings/").content.decode()


def test_contacts_pages_show_the_last_sync_inactive_contacts_and_family_links(
    admin_client: Any, org: Any
) -> None:
    people = [user("s1", "Maya", "Lopez", "student"), user("s2", "Leo", "Lopez", "student"),
              user("g1", "Rosa", "Lopez", "guardian", agentSourcedIds="s1,s2"),
              user("g2", "Gus", "Lopez", "guardian", enabledUser="false")]  # fmt: skip
    imported(admin_client, bundle(people), "export.zip")
    ImportJob.objects.update(source="folder")
    listing = admin_client.get("/contacts/").content.decode()
    assert "Last roster sync:" in listing and "4 added, 0 changed, 0 made inactive" in listing
    assert listing.count(">Inactive</span>") == 1
    ids = dict(Contact.objects.values_list("external_id", "pk"))
    guardian = admin_client.get(f"/contacts/{ids['g1']}/").content.decode()
    assert "Guardian of" in guardian
    assert f'href="/contacts/{ids["s1"]}/">Maya Lopez</a>' in guardian
    assert f'href="/contacts/{ids["s2"]}/">Leo Lopez</a>' in guardian
    student = admin_client.get(f"/contacts/{ids['s2']}/").content.decode()
    assert f'<dt>Guardian</dt><dd><a href="/contacts/{ids["g1"]}/">Rosa Lopez</a>' in student
    inactive = admin_client.get(f"/contacts/{ids['g2']}/").content.decode()
    assert "no broadcast texts them" in inactive
