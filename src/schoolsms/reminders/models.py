"""Reminder runs and the emails they sent.

A run is created `queued`, claimed by one worker (`running`, compare-and-set), and ends
`finished`, or `interrupted` when the mail server went away mid-run. Every contact the run
considered gets one ReminderEmail row: `skipped` (with the reason) or `queued` before the SMTP
call, then `sent` or `failed` after it. A failure is `permanent` when the mail server refused the
address with a 5xx reply; such an address is not tried again unless an admin forces it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from schoolsms.accounts.models import Organization
from schoolsms.constraints import one_of
from schoolsms.contacts.models import Contact


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Sending"
    FINISHED = "finished", "Finished"
    INTERRUPTED = "interrupted", "Interrupted"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunSource(models.TextChoices):
    WEB = "web", "Web"
    CLI = "cli", "Command line"
    API = "api", "API"


class ReminderRun(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="reminder_runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=5, choices=RunSource.choices, default=RunSource.WEB)
    force = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched on every email, so a run whose worker died can be told from a slow one.
    updated_at = models.DateTimeField(auto_now=True)
    to_send_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=one_of("status", RunStatus.values), name="reminder_run_status_valid"
            ),
            # Two runs at once would email the same families twice.
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status__in=["queued", "running"]),
                name="reminder_one_active_run_per_org",
            ),
            models.CheckConstraint(
                condition=~one_of("status", ["finished", "interrupted"])
                | models.Q(finished_at__isnull=False),
                name="reminder_run_finished_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder run {self.pk} · {self.organization} · {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def done_count(self) -> int:
        return self.sent_count + self.failed_count

    @property
    def percent(self) -> int:
        if not self.to_send_count:
            return 0 if self.is_active else 100
        return min(100, round(100 * self.done_count / self.to_send_count))


class EmailOutcome(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class SkipReason(models.TextChoices):
    RECENTLY_REMINDED = "recent", "Reminded in the last 7 days"
    ADDRESS_REJECTED = "rejected", "Address refused by the mail server earlier"


class ReminderEmail(models.Model):
    run = models.ForeignKey(ReminderRun, on_delete=models.CASCADE, related_name="emails")
    # Denormalized from the run so "reminded in the last 7 days" is one indexed query.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="reminder_emails"
    )
    address = models.EmailField()
    language = models.CharField(max_length=5)
    # The masked numbers the email listed, one per line.
    phones = models.TextField(blank=True)
    outcome = models.CharField(max_length=8, choices=EmailOutcome.choices)
    skip_reason = models.CharField(max_length=10, choices=SkipReason.choices, blank=True)
    permanent = models.BooleanField(default=False)
    smtp_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=one_of("outcome", EmailOutcome.values),
                name="reminder_email_outcome_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="sent") | models.Q(sent_at__isnull=False),
                name="reminder_email_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="skipped") | ~models.Q(skip_reason=""),
                name="reminder_email_skipped_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "contact", "outcome"], name="reminder_email_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} · {self.outcome}"

    @property
    def phone_list(self) -> list[str]:
        return [p for p in self.phones.splitlines() if p]

    @property
    def detail(self) -> str:
        if self.outcome == EmailOutcome.SKIPPED:
            return self.get_skip_reason_display()
        return self.smtp_error
