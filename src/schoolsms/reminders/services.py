"""Writes: create a reminder run, and carry it out over one SMTP connection."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.reminders.emails import FlyerCache, reminder_message
from schoolsms.reminders.models import (
    ACTIVE_RUN_STATUSES,
    EmailOutcome,
    ReminderEmail,
    ReminderRun,
    RunSource,
    RunStatus,
)
from schoolsms.reminders.selectors import Recipient, reminder_plan

logger = logging.getLogger(__name__)

# A run that has not moved for this long lost its worker (killed, machine restarted).
STALE_RUN_AFTER = dt.timedelta(minutes=30)

Progress = Callable[[ReminderEmail], None]


class ReminderRunBusy(ValidationError):
    """Another reminder run of the organization is still queued or sending."""


def reminder_run_create(
    *,
    organization: Organization,
    started_by: User | None,
    force: bool = False,
    source: str = RunSource.WEB,
) -> ReminderRun:
    """Record a new queued run; the caller executes it (CLI) or enqueues it (web, API).

    Refuses while another run of the organization is active, so a double click cannot email
    every family twice; a run abandoned by a dead worker is closed first."""
    now = timezone.now()
    ReminderRun.objects.filter(
        organization=organization,
        status__in=ACTIVE_RUN_STATUSES,
        updated_at__lt=now - STALE_RUN_AFTER,
    ).update(
        status=RunStatus.INTERRUPTED,
        finished_at=now,
        error="Abandoned: the worker stopped before finishing.",
    )
    ReminderEmail.objects.filter(
        run__organization=organization,
        run__status=RunStatus.INTERRUPTED,
        outcome=EmailOutcome.QUEUED,
    ).update(outcome=EmailOutcome.FAILED, smtp_error="Not sent: the run was abandoned.")
    try:
        with transaction.atomic():
            return ReminderRun.objects.create(
                organization=organization, started_by=started_by, force=force, source=source
            )
    except IntegrityError:
        raise ReminderRunBusy(
            "A reminder run for this organization is already in progress; wait for it to finish."
        ) from None


def _finish_email(
    email: ReminderEmail, *, outcome: str, error: str = "", permanent: bool = False
) -> bool:
    """Compare-and-set from queued, so a row is completed once even if a run is retried."""
    now = timezone.now()
    done = ReminderEmail.objects.filter(pk=email.pk, outcome=EmailOutcome.QUEUED).update(
        outcome=outcome,
        smtp_error=error[:2000],
        permanent=permanent,
        sent_at=now if outcome == EmailOutcome.SENT else None,
        finished_at=now,
    )
    if done:
        counter = "sent_count" if outcome == EmailOutcome.SENT else "failed_count"
        ReminderRun.objects.filter(pk=email.run_id).update(
            **{counter: F(counter) + 1}, updated_at=now
        )
        email.outcome, email.smtp_error, email.permanent = outcome, error, permanent
    return bool(done)


def _describe(exc: BaseException) -> tuple[str, bool]:
    """The SMTP error as text for the record, and whether it is permanent (a 5xx reply)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, msg = next(iter(exc.recipients.values()), (0, b""))
        text = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
        return f"{code} {text}".strip(), 500 <= code < 600
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        # A refused sender address is our configuration, not the family's address.
        permanent = 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPSenderRefused)
        return f"{exc.smtp_code} {text}".strip(), permanent
    return f"{type(exc).__name__}: {exc}".strip(), False


def _record_plan(run: ReminderRun) -> list[ReminderEmail]:
    plan = reminder_plan(organization=run.organization, force=run.force)

    def row(recipient: Recipient, outcome: str) -> ReminderEmail:
        return ReminderEmail(
            run=run,
            organization_id=run.organization_id,
            contact=recipient.contact,
            address=recipient.address,
            language=recipient.language,
            phones="\n".join(recipient.masked_phones),
            outcome=outcome,
            skip_reason=recipient.skip_reason,
        )

    with transaction.atomic():
        ReminderEmail.objects.bulk_create(
            [row(r, EmailOutcome.SKIPPED) for r in plan.skipped], batch_size=500
        )
        ReminderEmail.objects.bulk_create(
            [row(r, EmailOutcome.QUEUED) for r in plan.to_send], batch_size=500
        )
        ReminderRun.objects.filter(pk=run.pk).update(
            to_send_count=len(plan.to_send), skipped_count=len(plan.skipped)
        )
    run.to_send_count, run.skipped_count = len(plan.to_send), len(plan.skipped)
    # PostgreSQL returns ids from bulk_create; SQLite ≥ 3.35 too, but read back to be sure.
    return list(run.emails.filter(outcome=EmailOutcome.QUEUED).select_related("contact"))


def _close_run(run_id: int, *, status: str, error: str = "") -> ReminderRun:
    ReminderRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), error=error
    )
    return ReminderRun.objects.get(pk=run_id)


def reminder_run_execute(*, run_id: int, progress: Progress | None = None) -> ReminderRun:
    """Send a queued run's emails, recording each outcome.

    A refused address (SMTPRecipientsRefused and the like) fails that email and the run goes
    on. Losing the mail server (disconnect, timeout, refused connection) stops the run: the
    emails sent so far stay recorded as sent, the rest are failed as temporary, so the next
    run sends them. No database transaction is open while talking to the mail server."""
    now = timezone.now()
    claimed = ReminderRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now, updated_at=now
    )
    run = ReminderRun.objects.select_related("organization__sender").get(pk=run_id)
    if not claimed:
        return run  # another worker has it, or it is done
    queued = _record_plan(run)
    if not queued:
        return _close_run(run_id, status=RunStatus.FINISHED)

    flyers = FlyerCache(run.organization)
    connection = get_connection(fail_silently=False)
    lost: str = ""
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as exc:
        lost, _ = _describe(exc)
    if not lost:
        try:
            for email in queued:
                message = reminder_message(
                    organization=run.organization,
                    language=email.language,
                    name=email.contact.name if email.contact else "",
                    address=email.address,
                    masked_phones=email.phone_list,
                    flyers=flyers,
                )
                message.connection = connection
                try:
                    connection.send_messages([message])
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as exc:
                    error, permanent = _describe(exc)
                    if _reply_code(exc) == 421:
                        # The server is closing the connection; smtplib already closed ours.
                        lost = error
                    else:
                        _finish_email(
                            email, outcome=EmailOutcome.FAILED, error=error, permanent=permanent
                        )
                except (smtplib.SMTPException, OSError) as exc:
                    lost, _ = _describe(exc)
                else:
                    _finish_email(email, outcome=EmailOutcome.SENT)
                if progress is not None:
                    progress(email)
                if lost:
                    break
        finally:
            try:
                connection.close()
            except (smtplib.SMTPException, OSError):
                logger.debug("closing the SMTP connection failed", exc_info=True)
    if lost:
        reason = f"Not sent: lost the mail server ({lost}); the next run will send it."
        for email in queued:
            _finish_email(email, outcome=EmailOutcome.FAILED, error=reason)
        logger.warning("reminder run %s interrupted: %s", run_id, lost)
        return _close_run(run_id, status=RunStatus.INTERRUPTED, error=lost)
    return _close_run(run_id, status=RunStatus.FINISHED)


def _reply_code(exc: smtplib.SMTPException) -> int:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return int(next(iter(exc.recipients.values()), (0, b""))[0])
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return 0
