"""The carrier simulator keeps the messages it has accepted, as a real carrier would."""

from __future__ import annotations

from django.db import models


class SimulatedMessage(models.Model):
    """One message the simulated carrier accepted (a Twilio message resource)."""

    sid = models.CharField(max_length=34, unique=True)
    # Our Message row it was sent for (what lookup() answers by); empty for keyword replies.
    message_ref = models.BigIntegerField(null=True, blank=True)
    sender = models.CharField(max_length=20)
    to = models.CharField(max_length=16)
    body = models.TextField()
    # Twilio statuses: queued, sent, delivered, undelivered, failed.
    status = models.CharField(max_length=12, default="queued")
    error_code = models.CharField(max_length=10, blank=True)
    # When its status callbacks were posted (or given up on); empty: still to come.
    callbacks_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        # No index on `to`: nothing looks messages up by number, and one would be written at
        # a random place for every message sent (most of what each send batch's commit wrote).
        indexes = [
            models.Index(
                fields=["message_ref"],
                name="simulated_message_ref",
                condition=models.Q(message_ref__isnull=False),
            ),
            models.Index(
                fields=["sender", "created_at"],
                name="simulated_awaiting_callbacks",
                condition=models.Q(callbacks_at__isnull=True, message_ref__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sid} → {self.to} ({self.status})"
