"""Reminder runs against a real SMTP server: who gets mail, what it says, what is recorded."""

from __future__ import annotations

import datetime as dt
import io
import socket
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from pypdf import PdfReader

from schoolsms.reminders.models import EmailOutcome, ReminderEmail, RunStatus, SkipReason
from schoolsms.reminders.selectors import reminder_plan, reminders_for_contact
from schoolsms.reminders.services import (
    ReminderRunBusy,
    reminder_run_create,
    reminder_run_execute,
)
from schoolsms.reminders.tasks import reminder_run_enqueue
from schoolsms.reminders.tests.factories import add_pending, build_people
from schoolsms.testing import create_contact

pytestmark = pytest.mark.django_db


def run_now(org: Any, force: bool = False) -> Any:
    run = reminder_run_create(organization=org, started_by=None, force=force, source="cli")
    return reminder_run_execute(run_id=run.pk)


def pdf_text(message: Any) -> str:
    pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    return PdfReader(io.BytesIO(pdfs[0].get_content())).pages[0].extract_text()


def test_each_right_contact_gets_exactly_one_email_with_the_flyer(org: Any, smtp_server: Any):
    people = build_people(org)
    other = create_contact(org, "X", [], email="nophone@example.org")  # no numbers at all
    run = run_now(org)

    assert smtp_server.recipients == ["ana@example.org", "fay@example.org"]
    assert run.status == RunStatus.FINISHED
    assert (run.to_send_count, run.sent_count, run.failed_count, run.skipped_count) == (2, 2, 0, 0)

    (ana_mail,) = smtp_server.to("ana@example.org")
    assert "Envíe Y al 67587" in pdf_text(ana_mail)  # her language
    assert "envíe Y al 67587" in ana_mail["Subject"]
    text = ana_mail.get_body(("plain",)).get_content()
    html = ana_mail.get_body(("html",)).get_content()
    for body in (text, html):
        assert "•••-•••-0101" in body and "•••-•••-0102" in body
        assert "0103" not in body  # opted in already: not listed
        assert "2175550101" not in body  # never the whole number
        assert "Envíe Y al 67587" in body
        assert "HELP" in body and "STOP" in body
    assert "sms:67587?&amp;body=Y" in html

    assert ana_mail["Reply-To"] == "help@springfield.example.org"
    (fay_mail,) = smtp_server.to("fay@example.org")
    flyer = pdf_text(fay_mail)
    assert "Text Y to 67587" in flyer and "Msg & data rates may apply." in flyer
    assert "Text Y to 67587" in fay_mail.get_body(("plain",)).get_content()

    sent = ReminderEmail.objects.filter(run=run)
    assert {(e.contact_id, e.outcome) for e in sent} == {
        (people.ana.pk, EmailOutcome.SENT),
        (people.fay.pk, EmailOutcome.SENT),
    }
    assert all(e.sent_at is not None and e.smtp_error == "" for e in sent)
    assert [e.outcome for e in reminders_for_contact(people.fay)] == ["sent"]
    assert not reminders_for_contact(other).exists()


def test_no_more_than_one_reminder_per_week_unless_forced(org: Any, smtp_server: Any):
    people = build_people(org)
    run_now(org)
    assert len(smtp_server.messages) == 2

    again = run_now(org)
    assert len(smtp_server.messages) == 2
    assert (again.sent_count, again.skipped_count) == (0, 2)
    assert set(again.emails.values_list("skip_reason", flat=True)) == {SkipReason.RECENTLY_REMINDED}

    forced = run_now(org, force=True)
    assert forced.sent_count == 2 and len(smtp_server.messages) == 4

    # Eight days later Fay (still pending) is due again, without forcing.
    ReminderEmail.objects.filter(contact=people.fay).update(
        sent_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    later = run_now(org)
    assert later.sent_count == 1 and smtp_server.recipients.count("fay@example.org") == 3


def test_refused_address_is_recorded_failed_and_not_retried_forever(org: Any, smtp_server: Any):
    people = build_people(org)
    smtp_server.reject.add("ana@example.org")
    run = run_now(org)

    assert run.status == RunStatus.FINISHED  # one bad address does not stop the run
    assert smtp_server.recipients == ["fay@example.org"]
    failed = ReminderEmail.objects.get(run=run, contact=people.ana)
    assert failed.outcome == EmailOutcome.FAILED and failed.permanent
    assert "550" in failed.smtp_error and "No such user" in failed.smtp_error
    assert (run.sent_count, run.failed_count) == (1, 1)

    plan = reminder_plan(organization=org)
    assert [(r.contact.pk, r.skip_reason) for r in plan.skipped if r.contact == people.ana] == [
        (people.ana.pk, SkipReason.ADDRESS_REJECTED)
    ]
    # Forced through and accepted this time: the address is good again.
    smtp_server.reject.clear()
    ReminderEmail.objects.filter(outcome=EmailOutcome.SENT).update(
        sent_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    assert run_now(org, force=True).sent_count == 2
    ReminderEmail.objects.filter(outcome=EmailOutcome.SENT).update(
        sent_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    assert len(reminder_plan(organization=org).to_send) == 2
    # A new address is worth a try.
    people.ana.email = "ana.new@example.org"
    people.ana.save()
    assert people.ana.pk in [r.contact.pk for r in reminder_plan(organization=org).to_send]


def test_temporary_refusal_is_retried_by_the_next_run(org: Any, smtp_server: Any):
    build_people(org)
    smtp_server.defer.add("fay@example.org")
    first = run_now(org)
    fay_row = first.emails.get(address="fay@example.org")
    assert fay_row.outcome == EmailOutcome.FAILED and not fay_row.permanent
    assert fay_row.smtp_error.startswith("450")

    smtp_server.defer.clear()
    second = run_now(org)
    assert second.sent_count == 1
    assert smtp_server.recipients == ["ana@example.org", "fay@example.org"]


def test_connection_lost_mid_run_keeps_sent_ones_and_the_rest_go_next_time(
    org: Any, smtp_server: Any
):
    build_people(org)
    add_pending(org, 3)
    smtp_server.drop_after = 2
    run = run_now(org)

    assert run.status == RunStatus.INTERRUPTED and run.error
    assert len(smtp_server.messages) == 2
    assert run.sent_count == 2 and run.failed_count == 3
    unsent = run.emails.filter(outcome=EmailOutcome.FAILED)
    assert all(not e.permanent and "next run" in e.smtp_error for e in unsent)

    smtp_server.drop_after = None
    retry = run_now(org)
    assert retry.status == RunStatus.FINISHED
    assert (retry.sent_count, retry.skipped_count) == (3, 2)
    # Everybody got exactly one email in the end.
    assert len(smtp_server.recipients) == len(set(smtp_server.recipients)) == 5


def test_mail_server_down_fails_the_run_retryably(org: Any, smtp_server: Any, settings: Any):
    build_people(org)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = s.getsockname()[1]  # nothing listens there once closed
    run = run_now(org)
    assert run.status == RunStatus.INTERRUPTED
    assert run.failed_count == 2 and run.sent_count == 0
    assert len(reminder_plan(organization=org).to_send) == 2


def test_only_one_active_run_per_organization(org: Any):
    reminder_run_create(organization=org, started_by=None)
    with pytest.raises(ReminderRunBusy):
        reminder_run_create(organization=org, started_by=None)


def test_run_is_claimed_once(org: Any, smtp_server: Any):
    build_people(org)
    run = reminder_run_create(organization=org, started_by=None)
    reminder_run_execute(run_id=run.pk)
    reminder_run_execute(run_id=run.pk)
    assert len(smtp_server.messages) == 2


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_the_task_sends_through_the_database_queue(org: Any, admin_user: Any, smtp_server: Any):
    build_people(org)
    with transaction.atomic():
        run = reminder_run_create(organization=org, started_by=admin_user)
        reminder_run_enqueue(run=run)
    assert smtp_server.messages == []  # queued, not sent inline
    call_command("db_worker", "--batch", "--queue-name", "email", "--no-startup-delay")
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and run.sent_count == 2
    assert smtp_server.recipients == ["ana@example.org", "fay@example.org"]
