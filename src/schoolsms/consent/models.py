"""The consent registry: one status per (sender, number), its append-only history, the block list.

Consent belongs to the sender (the short code), not to an organization: a STOP texted to a short
code holds for every organization that shares it. Only `consent.services.consent_change` writes
ConsentRecord and ConsentEvent; the events are the school's proof of consent and are never
updated or deleted: triggers in the database refuse it (migration 0005), whoever asks.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from schoolsms.accounts.models import Organization, Sender
from schoolsms.constraints import one_of


class ConsentStatus(models.TextChoices):
    PENDING_OPT_IN = "pending", "Pending Opt-In"
    OPTED_IN = "opted_in", "Opted In"
    OPTED_OUT = "opted_out", "Opted Out"


class ConsentSource(models.TextChoices):
    IMPORT = "import", "Contact import"
    KEYWORD = "keyword", "Keyword texted to the short code"
    WEB = "web", "Changed on the web"
    API = "api", "Changed through the API"
    CARRIER = "carrier", "Reported by the carrier"
    ADMIN = "admin", "Changed by an administrator"


class ConsentRecord(models.Model):
    sender = models.ForeignKey(Sender, on_delete=models.PROTECT, related_name="consent_records")
    phone = models.CharField(max_length=16)  # E.164
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "phone"], name="consent_one_per_sender_phone"
            ),
            models.CheckConstraint(
                condition=one_of("status", ConsentStatus.values), name="consent_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["sender", "status"], name="consent_sender_status"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} · {self.get_status_display()}"


class AppendOnlyError(RuntimeError):
    pass


class ConsentEvent(models.Model):
    """One change of a consent record: who, when, how, and what was said.

    Append-only in the database: triggers refuse every UPDATE and DELETE, with one exception
    that rewrites nothing: when a user or an organization is deleted, its link (actor,
    organization) becomes NULL while the name and email recorded at the time stay. Deleting an
    organization therefore keeps the history of its sender's numbers (consent belongs to the
    sender) with the organization's name in it. On SQLite a migration that rebuilds this table
    drops the triggers: recreate them after it (the append-only tests fail until then).
    """

    record = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="events")
    old_status = models.CharField(max_length=10, choices=ConsentStatus.choices, blank=True)
    new_status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(max_length=10, choices=ConsentSource.choices)
    # The inbound text for keyword changes, a note for the others.
    text = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted, as they were named at the time: kept when the user is deleted.
    actor_name = models.CharField(max_length=300, blank=True, db_default="")
    actor_email = models.CharField(max_length=254, blank=True, db_default="")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization_name = models.CharField(max_length=200, blank=True, db_default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["record", "created_at"], name="consent_event_record_time")]

    def __str__(self) -> str:
        return f"{self.old_status or '∅'} → {self.new_status} ({self.source})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("consent history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("consent history is append-only")

    @property
    def actor_label(self) -> str:
        """The acting user as recorded: their email, else their name ('' for none)."""
        return self.actor_email or self.actor_name


class BlockedNumber(models.Model):
    """A number the organization never texts. Blocking leaves the consent status as it was."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="blocked_numbers"
    )
    phone = models.CharField(max_length=16)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "phone"], name="blocked_unique")
        ]

    def __str__(self) -> str:
        return self.phone
