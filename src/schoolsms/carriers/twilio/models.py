"""What the Twilio gateway keeps besides the message rows: status callbacks that arrived before
their message's sid was stored, and creates whose answer never came."""

from __future__ import annotations

from django.db import models


class HeldStatus(models.Model):
    """A signed status callback for a sid no message row carries yet. Twilio often reports
    `sent` within a second, sometimes before the worker that created the message has stored
    its answer (or the worker died and the reconciler has yet to adopt the sid): the callback
    is kept here and applied once a row of the signing account's senders carries the sid."""

    sid = models.CharField(max_length=64)
    account_sid = models.CharField(max_length=34)
    status = models.CharField(max_length=12)  # in our words: sending, sent, delivered, failed
    error_code = models.CharField(max_length=10, blank=True)
    at = models.DateTimeField(null=True, blank=True)  # RawDlrDoneDate, when given
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["sid"], name="twilio_held_sid")]

    def __str__(self) -> str:
        return f"{self.sid} {self.status}"


class UnansweredCreate(models.Model):
    """A create request that timed out after it may have reached Twilio: whether Twilio made
    the message is unknown. Before the message is sent again, Twilio is asked (the account's
    messages to that number since `requested_at`, with our text), so a number never gets the
    same broadcast twice."""

    message_ref = models.BigIntegerField(unique=True)  # our Message row
    to = models.CharField(max_length=16)
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"message {self.message_ref} to {self.to} at {self.requested_at:%H:%M:%S}"
