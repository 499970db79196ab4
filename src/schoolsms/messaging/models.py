"""Broadcasts and their message rows: one row per (recipient, number), each ending with exactly
one delivery result and, when undelivered, one reason (the lifecycle is on Message)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from schoolsms.accounts.models import Organization, Sender
from schoolsms.consent.models import ConsentEvent
from schoolsms.constraints import one_of
from schoolsms.contacts.models import Contact
from schoolsms.messaging.languages import language_name


class DeliveryResult(models.TextChoices):
    NOT_SENT_YET = "not_sent_yet", "Not Sent Yet"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    INELIGIBLE_TO_SEND = "ineligible", "Ineligible to Send"
    FAILED_TO_SEND = "failed", "Failed to Send"


# The stage column of the SMS Log, as users know it.
DELIVERY_STAGE = {
    DeliveryResult.NOT_SENT_YET: "",
    DeliveryResult.SENDING: "Sending",
    DeliveryResult.SENT: "Sent",
    DeliveryResult.INELIGIBLE_TO_SEND: "Undelivered",
    DeliveryResult.FAILED_TO_SEND: "Undelivered",
}


class Reason(models.TextChoices):
    # Ineligible to Send: our own rules stopped it.
    NO_SMS_NUMBER = "no_sms_number", "The contact has no active SMS number"
    BLOCKED = "blocked", "The number is on the block list"
    OPTED_OUT = "opted_out", "The number has opted out (denied consent for SMS)"
    PENDING_OPT_IN = "pending_opt_in", "Consent is still pending (Pending Opt-In)"
    NOT_OPTED_IN = "not_opted_in", "The number has never opted in"
    DUPLICATE_NUMBER = "duplicate_number", "Duplicate number: already texted in this broadcast"
    # Failed to Send: the carrier refused it or could not deliver it.
    CARRIER_ERROR = "carrier_error", "Carrier technical issue, error, overflow or outage"
    CONTACT_ACCOUNT = "contact_account", "The phone line is suspended, invalid or no longer exists"
    NO_SMS_CAPABILITY = "no_sms_capability", "The phone cannot receive SMS (or SMS is turned off)"


INELIGIBLE_REASONS = (
    Reason.NO_SMS_NUMBER,
    Reason.BLOCKED,
    Reason.OPTED_OUT,
    Reason.PENDING_OPT_IN,
    Reason.NOT_OPTED_IN,
    Reason.DUPLICATE_NUMBER,
)
FAILED_REASONS = (Reason.CARRIER_ERROR, Reason.CONTACT_ACCOUNT, Reason.NO_SMS_CAPABILITY)
_NO_REASON = (DeliveryResult.NOT_SENT_YET, DeliveryResult.SENDING, DeliveryResult.SENT)


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    COMPLETE = "complete", "Complete"
    CANCELED = "canceled", "Canceled"


class BroadcastKind(models.TextChoices):
    BROADCAST = "broadcast", "Broadcast"
    INVITATION = "invitation", "Opt-in invitation"


class Broadcast(models.Model):
    """A text to an audience. Most are broadcasts users write; an opt-in invitation
    (messaging.invitations) is one too, whose eligible numbers are the Pending Opt-In ones."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="broadcasts"
    )
    name = models.CharField(max_length=200)
    text = models.TextField()  # English, and for everyone whose language has no text of its own
    # Texts in other languages, by language code ({"es": "..."}); each recipient gets the one
    # of their contact's language, else `text`.
    texts = models.JSONField(default=dict, blank=True)
    # Audience: empty lists mean "no filter"; all empty means every contact.
    audience_roles = models.JSONField(default=list, blank=True)
    audience_schools = models.JSONField(default=list, blank=True)
    audience_external_ids = models.JSONField(default=list, blank=True)
    # Built-in language codes (messaging.replies.LANGUAGES) of the contacts it is for; a
    # contact whose language is none of them counts as English.
    audience_languages = models.JSONField(default=list, blank=True)
    kind = models.CharField(
        max_length=10, choices=BroadcastKind.choices, default=BroadcastKind.BROADCAST
    )
    emergency = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=BroadcastStatus.choices, default=BroadcastStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # Fan-out writes the rows in chunks of audience contacts (by id), each committed, so the
    # first texts leave while later chunks are still being written: `dispatched_at` is when it
    # began (every row's created_at), `fan_out_cursor` the highest contact id whose rows are
    # written (a stopped fan-out resumes after it), `fanned_out_at` when every row was; until
    # then the broadcast cannot be Complete.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    fan_out_cursor = models.BigIntegerField(default=0, db_default=0)
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="broadcast_org_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BroadcastStatus.values),
                name="broadcast_status_valid",
            ),
            models.CheckConstraint(
                condition=one_of("kind", BroadcastKind.values), name="broadcast_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def text_for(self, language: str) -> str:
        """The text a recipient in `language` gets."""
        return str(self.texts.get(language) or self.text)


class Message(models.Model):
    """One text to one number for one broadcast, and what became of it.

    Lifecycle of `result`. These are all the moves there are; each is one function of
    messaging/transitions.py, a compare-and-set naming the result it expects:

        from           to             by (transitions.py)      when
        (new row)      Not Sent Yet   fan_out_sql              every eligibility rule passed
        (new row)      Ineligible     fan_out_sql              the first eligibility rule failed
        (new row)      Not Sent Yet   invitation_rows_sql      opt-in invitation to a Pending number
        Not Sent Yet   Sending        rows_claim               a worker takes it to send
        Sending        Ineligible     claimed_mark_ineligible  re-check: a STOP, block since
        Sending        Not Sent Yet   claimed_hold             quiet hours (attempt given back)
        Sending        Sending        claimed_accept           carrier queued it (id recorded)
        Sending        Sent           claimed_accept           carrier accepted it
        Sending        Failed         claimed_refuse           carrier refused it for good
        Sending        Ineligible     claimed_refuse           carrier: the number opted out
        Sending        Not Sent Yet   claimed_retry_later      retryable refusal or transport error
        Sending        Sent           receipts_apply           `sent`, or `delivered` overtaking it
        Sent           Sent           receipts_apply           `delivered`: delivered_at, once
        Sending        Failed         receipt_refuse           failure receipt, no retry left
        Sent           Failed         receipt_refuse           failure receipt, no retry left
        Sending        Ineligible     receipt_refuse           failure receipt: opted out
        Sent           Ineligible     receipt_refuse           failure receipt: opted out
        Sending        Not Sent Yet   receipt_retry_later      retryable failure receipt
        Sent           Not Sent Yet   receipt_retry_later      retryable failure receipt
        Sending        Sending        reconcile_take_over      claim older than the lease
        Sending        Not Sent Yet   reconcile_not_received   the carrier never got it
        Sending        Sent           reconcile_assume_sent    carrier can't say, gave an id
        Sending        Failed         reconcile_give_up        carrier can't say, gave no id

    (Ineligible is Ineligible to Send, Failed is Failed to Send.) Ineligible and Failed end a
    row; a Sent row with delivered_at ends it too. A retryable failure receipt moves a Sent row
    back to Not Sent Yet: the carrier took it but could not deliver it, and the next attempt is
    a new send (carrier id and sent_at cleared). Reconciliation settles a claim a dead worker
    left; where the carrier has the message, its status is applied as a receipt would be.

    The database refuses what no move makes: a reason on Not Sent Yet, Sending or Sent; an
    Ineligible row without one of the eligibility reasons, a Failed row without one of the
    carrier reasons; delivered_at on anything but Sent; Sent without sent_at.
    """

    # The single-column indexes Django would add on these foreign keys are left out: the
    # composite indexes below start with them, and every index costs time at fan-out.
    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Denormalized from the broadcast so reports filter one table by organization and date.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sender = models.ForeignKey(Sender, on_delete=models.PROTECT, related_name="+", db_index=False)
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="messages"
    )
    phone = models.CharField(max_length=16, null=True, blank=True)  # E.164; NULL: no SMS number
    # The language of the text this row gets: a key of its broadcast's `texts`, or "en".
    language = models.CharField(max_length=10, db_default="en")
    result = models.CharField(
        max_length=12, choices=DeliveryResult.choices, default=DeliveryResult.NOT_SENT_YET
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    carrier_code = models.CharField(max_length=20, blank=True)
    carrier_message_id = models.CharField(max_length=64, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["broadcast", "result", "reason"], name="message_broadcast_result"),
            models.Index(fields=["organization", "created_at", "id"], name="message_org_time"),
            # Only rows a carrier has answered for have an id; callbacks look them up by it.
            models.Index(
                fields=["carrier_message_id"],
                name="message_carrier_id",
                condition=models.Q(carrier_message_id__isnull=False),
            ),
            # A number's rows in one organization: the SMS Log's search and phone sort, and the
            # "three failures in a row" check.
            models.Index(fields=["organization", "phone", "id"], name="message_org_phone"),
            # One broadcast's rows in time order: SMS Log pages for a broadcast, even the last.
            models.Index(fields=["broadcast", "created_at", "id"], name="message_broadcast_time"),
            # Rows waiting to be tried again (a retry, quiet hours), per broadcast, soonest
            # first. Rows never tried have no next_attempt_at and no entry here, so fan-out
            # writes none; the send loop claims them through message_broadcast_result.
            models.Index(
                fields=["broadcast", "next_attempt_at", "id"],
                name="message_waiting",
                condition=models.Q(result="not_sent_yet", next_attempt_at__isnull=False),
            ),
            # Rows handed to a carrier; the reconciler looks for old claims here.
            models.Index(
                fields=["claimed_at"],
                name="message_sending",
                condition=models.Q(result="sending"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=one_of("result", DeliveryResult.values), name="message_result_valid"
            ),
            # OR chains, most common rows first (see schoolsms.constraints.one_of): fan-out
            # writes Not Sent Yet and Ineligible rows by the million.
            models.CheckConstraint(
                condition=(
                    (one_of("result", _NO_REASON) & models.Q(reason=""))
                    | (models.Q(result="ineligible") & one_of("reason", INELIGIBLE_REASONS))
                    | (models.Q(result="failed") & one_of("reason", FAILED_REASONS))
                ),
                name="message_reason_matches_result",
            ),
            models.CheckConstraint(
                condition=models.Q(delivered_at__isnull=True) | models.Q(result="sent"),
                name="message_delivered_only_sent",
            ),
            models.CheckConstraint(
                condition=~models.Q(result="sent") | models.Q(sent_at__isnull=False),
                name="message_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone or '—'} · {self.get_result_display()}"

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    @property
    def delivery_stage(self) -> str:
        return DELIVERY_STAGE[DeliveryResult(self.result)]


class SenderThrottle(models.Model):
    """The shared token bucket for one sender's messages per second, across every worker.

    `next_slot` is the epoch second at which the next message may go; a worker reserves n
    slots by moving it forward n/mps in one UPDATE, then waits until its first slot.
    """

    sender = models.OneToOneField(
        Sender, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    next_slot = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.sender_id} @ {self.next_slot:.3f}"


class ThrottleChunk(models.Model):
    """Messages a worker let go for a sender in one carrier call: when it let them go
    (`released_at`, epoch seconds) and when the last of its requests had been written to the
    carrier (`sent_at`; empty until then). The carrier counts a message when it receives it, so
    a chunk counts against the sender's limit from its release until one second after
    `sent_at`, whether or not the carrier has answered yet; one never marked sent (its worker
    died mid-call) counts for UNSENT_SECONDS. Every worker reads these before letting more go,
    so no one-second window of the sender's sends, whichever workers made them, holds more
    than its limit. Chunks a few seconds old are deleted as new ones are written."""

    sender = models.ForeignKey(Sender, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField()
    released_at = models.FloatField()
    sent_at = models.FloatField(null=True)

    def __str__(self) -> str:
        return f"{self.sender_id}: {self.count} @ {self.released_at:.3f}"


class InboundKind(models.TextChoices):
    OPT_OUT = "opt_out", "Opt-out"
    OPT_IN = "opt_in", "Opt-in"
    HELP = "help", "Help"
    OTHER = "", "Other text"


class InboundText(models.Model):
    """A text a number sent to one of our senders, handled once: what was texted, when, through
    which carrier (and its message id), what it changed and what we answered.

    It is the evidence behind a keyword's consent change (`consent_event`) and the guard against
    replays: a carrier message id is handled once per sender and number. Written once, never
    updated."""

    sender = models.ForeignKey(Sender, on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=16)  # who texted, E.164
    carrier_message_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=40)  # the carrier it came through ("twilio", "cli" …)
    body = models.TextField()
    received_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=InboundKind.choices, blank=True)
    # The organization whose contact (or only organization on the sender) it was taken for.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent_event = models.OneToOneField(
        ConsentEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="inbound"
    )
    reply = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "phone", "carrier_message_id"],
                condition=~models.Q(carrier_message_id=""),
                name="inbound_handled_once",
            ),
            models.CheckConstraint(
                condition=one_of("kind", InboundKind.values), name="inbound_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["sender", "phone", "received_at"], name="inbound_number_time")
        ]

    def __str__(self) -> str:
        return f"{self.phone}: {self.body[:40]}"


class ReplyKind(models.TextChoices):
    HELP = "help", "HELP reply"
    OPT_IN = "opt_in", "Opt-in confirmation"
    OPT_OUT = "opt_out", "Opt-out confirmation"
    INVITATION = "invitation", "Opt-in invitation"


class ReplyText(models.Model):
    """An organization's own wording of one automatic text in one language; without one the
    built-in wording (messaging.replies) is used."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="reply_texts"
    )
    language = models.CharField(max_length=10)
    kind = models.CharField(max_length=12, choices=ReplyKind.choices)
    text = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "language", "kind"], name="reply_text_unique"
            ),
            models.CheckConstraint(
                condition=one_of("kind", ReplyKind.values), name="reply_text_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.language} {self.kind}"
