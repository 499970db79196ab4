"""The Reminders tab over HTTP (Django's test client): who may see what, and what it shows."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from schoolsms import testing
from schoolsms.reminders.models import ReminderRun, RunStatus
from schoolsms.reminders.services import reminder_run_create, reminder_run_execute
from schoolsms.reminders.tests.factories import build_people

pytestmark = pytest.mark.django_db


def test_page_shows_recipient_count_preview_and_history(admin_client: Any, org: Any):
    build_people(org)
    page = admin_client.get("/reminders/").content.decode()
    assert 'data-role="recipient-count">2<' in page
    assert "English: 1" in page and "Español: 1" in page
    assert "/reminders/preview/email/?language=es" in page
    assert "/reminders/flyer.pdf?language=es" in page
    assert "No reminders sent yet." in page


def test_email_preview_uses_a_real_recipient(admin_client: Any, org: Any):
    build_people(org)
    html = admin_client.get("/reminders/preview/email/?language=es").content.decode()
    assert "Estimado/a Ana Alvarez:" in html and "•••-•••-0102" in html
    text = admin_client.get("/reminders/preview/email/?language=en&format=text").content.decode()
    assert text.startswith("Subject: Springfield District: text Y to 67587")
    assert "Dear Fay Foster," in text
    assert admin_client.get("/reminders/preview/email/?language=xx").status_code == 400


def test_send_queues_a_run_on_the_email_queue(
    admin_client: Any, admin_user: Any, org: Any, django_capture_on_commit_callbacks: Any
):
    build_people(org)
    with django_capture_on_commit_callbacks(execute=True):
        asked = admin_client.post("/reminders/send/", {"force": "on"})
        assert "an opt-in reminder now?" in asked.content.decode()
        assert not ReminderRun.objects.exists()
        response = admin_client.post("/reminders/send/", {"force": "on", "confirmed": "yes"})
    run = ReminderRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reminders/runs/{run.pk}/"
    assert run.force and run.started_by == admin_user and run.status == RunStatus.QUEUED
    task = DBTaskResult.objects.get()
    assert task.queue_name == "email" and task.args_kwargs["args"] == [run.pk]

    page = admin_client.get(f"/reminders/runs/{run.pk}/").content.decode()
    assert "every 1s" in page and "Waiting for the background worker" in page
    # A second click while it is queued does not start a second run.
    response = admin_client.post("/reminders/send/", {"confirmed": "yes"}, follow=True)
    assert "already in progress" in response.content.decode()
    assert ReminderRun.objects.count() == 1


def test_finished_run_shows_each_email_and_stops_polling(
    admin_client: Any, org: Any, smtp_server: Any
):
    people = build_people(org)
    smtp_server.reject.add("ana@example.org")
    run = reminder_run_create(organization=org, started_by=None)
    reminder_run_execute(run_id=run.pk)

    progress = admin_client.get(f"/reminders/runs/{run.pk}/progress/?from=active")
    assert progress["HX-Refresh"] == "true" and "every 1s" not in progress.content.decode()
    page = admin_client.get(f"/reminders/runs/{run.pk}/").content.decode()
    assert "fay@example.org" in page and "550 5.1.1 No such user here" in page
    assert f'<a href="/contacts/{people.ana.pk}/">' in page  # each name leads to the contact
    history = admin_client.get("/reminders/").content.decode()
    assert f"/reminders/runs/{run.pk}/" in history

    # The contact's own page shows the reminder history (the panel reminders registers).
    html = admin_client.get(f"/contacts/{people.ana.pk}/").content.decode()
    assert "Opt-in reminder emails" in html
    assert "ana@example.org" in html and "Failed" in html and "•••-•••-0101" in html


def test_flyer_download_for_any_role(client: Any, org: Any):
    viewer = testing.create_user(org, "viewer@springfield.example.org", "viewer")
    client.force_login(viewer)
    response = client.get("/reminders/flyer.pdf?language=es")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == 'attachment; filename="opt-in-flyer-springfield-es.pdf"'
    )
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Envíe Y al 67587" in text
    assert client.get("/reminders/flyer.pdf?language=fr").status_code == 400
    # The Reminders page itself is for admins.
    assert client.get("/reminders/").status_code == 403
    assert client.post("/reminders/send/").status_code == 403


def test_runs_of_other_organizations_are_invisible(admin_client: Any, other_org: Any):
    theirs = reminder_run_create(organization=other_org, started_by=None)
    assert admin_client.get(f"/reminders/runs/{theirs.pk}/").status_code == 404
    assert admin_client.get(f"/reminders/runs/{theirs.pk}/progress/").status_code == 404


def test_anonymous_is_sent_to_login(client: Any, org: Any):
    response = client.get("/reminders/flyer.pdf")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_page_says_who_is_left_out_and_lists_recipients(admin_client: Any, org: Any):
    build_people(org)
    page = admin_client.get("/reminders/").content.decode()
    assert "1 with a Pending Opt-In number have <strong>no email address</strong>" in page
    assert "1 have only <strong>blocked</strong> numbers pending" in page
    # Every reason is named, even when it leaves nobody out today.
    assert "0: <strong>reminded in the last 7 days</strong>." in page
    assert "0: <strong>address refused by the mail server earlier</strong>." in page
    assert "Alvarez, Ana</a></td><td>ana@example.org</td><td>Español</td>" in page
    assert "bo@example.org" not in page  # blocked: not a recipient


def test_senders_may_send_reminders_but_not_to_nobody(client: Any, org: Any):
    client.force_login(testing.create_user(org, "sender@springfield.example.org", "sender"))
    page = client.get("/reminders/").content.decode()
    assert 'href="/reminders/"' in page and 'data-role="nobody"' in page
    assert "Send reminders</button>" not in page
    response = client.post("/reminders/send/", {"confirmed": "yes"}, follow=True)
    assert "Nobody would get a reminder now" in response.content.decode()
    assert not ReminderRun.objects.exists()
    build_people(org)
    response = client.post("/reminders/send/", {"confirmed": "yes"})
    assert response.status_code == 302 and ReminderRun.objects.count() == 1
