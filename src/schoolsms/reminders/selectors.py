"""Reads: who should get a reminder now, and what reminders were sent before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import BlockedNumber, ConsentRecord, ConsentStatus
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.phones import masked
from schoolsms.reminders.models import (
    EmailOutcome,
    ReminderEmail,
    ReminderRun,
    SkipReason,
)
from schoolsms.reminders.texts import flyer_language

REMINDER_INTERVAL = dt.timedelta(days=7)


@dataclass
class Recipient:
    contact: Contact
    phones: list[str]  # E.164, the numbers still Pending Opt-In
    skip_reason: str = ""

    @property
    def address(self) -> str:
        return self.contact.email

    @property
    def language(self) -> str:
        return flyer_language(self.contact.language)

    @property
    def masked_phones(self) -> list[str]:
        return [masked(p) for p in self.phones]


@dataclass
class ReminderPlan:
    to_send: list[Recipient] = field(default_factory=list)
    skipped: list[Recipient] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.skipped:
            counts[r.skip_reason] = counts.get(r.skip_reason, 0) + 1
        return counts


def pending_numbers(*, organization: Organization) -> QuerySet[PhoneNumber]:
    """The organization's SMS-enabled numbers (on contacts with an email address) whose consent
    on its sender is Pending Opt-In and that are not blocked. Numbers found unable to take texts
    (landlines) are left out: asking someone to text from a landline helps nobody."""
    pending = ConsentRecord.objects.filter(
        sender_id=organization.sender_id,
        phone=OuterRef("phone"),
        status=ConsentStatus.PENDING_OPT_IN,
    )
    blocked = BlockedNumber.objects.filter(organization=organization, phone=OuterRef("phone"))
    return (
        PhoneNumber.objects.filter(
            contact__organization=organization, sms_enabled=True, sms_capable=True
        )
        .exclude(contact__email="")
        .filter(Exists(pending))
        .exclude(Exists(blocked))
        .select_related("contact")
        .order_by("contact__last_name", "contact__first_name", "contact_id", "position")
    )


def reminder_plan(
    *, organization: Organization, force: bool = False, now: dt.datetime | None = None
) -> ReminderPlan:
    """Who gets a reminder if one is sent now, and who is skipped and why.

    Without `force`, a contact emailed a reminder in the last 7 days is skipped, and so is one
    whose current address the mail server refused outright (5xx) the last time it was tried:
    retrying a dead address every week would never end."""
    now = now or timezone.now()
    by_contact: dict[int, Recipient] = {}
    seen_phones: dict[int, set[str]] = {}
    for number in pending_numbers(organization=organization):
        recipient = by_contact.get(number.contact_id)
        if recipient is None:
            recipient = by_contact[number.contact_id] = Recipient(number.contact, [])
            seen_phones[number.contact_id] = set()
        if number.phone not in seen_phones[number.contact_id]:
            seen_phones[number.contact_id].add(number.phone)
            recipient.phones.append(number.phone)
    plan = ReminderPlan()
    if force:
        plan.to_send = list(by_contact.values())
        return plan

    recent = set(
        ReminderEmail.objects.filter(
            organization=organization,
            outcome=EmailOutcome.SENT,
            sent_at__gte=now - REMINDER_INTERVAL,
        ).values_list("contact_id", flat=True)
    )
    rejected = _rejected_addresses(organization)
    for contact_id, recipient in by_contact.items():
        if contact_id in recent:
            recipient.skip_reason = SkipReason.RECENTLY_REMINDED
        elif (contact_id, recipient.address.lower()) in rejected:
            recipient.skip_reason = SkipReason.ADDRESS_REJECTED
        (plan.skipped if recipient.skip_reason else plan.to_send).append(recipient)
    return plan


def left_out(*, organization: Organization, plan: ReminderPlan) -> dict[str, int]:
    """Contacts with a number still Pending Opt-In that no reminder can reach, and why: no
    email address, or only numbers on the block list (landlines are not counted: they were
    never asked to opt in by text). The plan's own skips (recent, refused) are in the plan."""
    pending = ConsentRecord.objects.filter(
        sender_id=organization.sender_id,
        phone=OuterRef("phone"),
        status=ConsentStatus.PENDING_OPT_IN,
    )
    blocked = BlockedNumber.objects.filter(organization=organization, phone=OuterRef("phone"))
    numbers = PhoneNumber.objects.filter(
        contact__organization=organization, sms_enabled=True, sms_capable=True
    ).filter(Exists(pending))
    in_plan = {r.contact.pk for r in [*plan.to_send, *plan.skipped]}
    no_email = set(numbers.filter(contact__email="").values_list("contact_id", flat=True))
    only_blocked = set(
        numbers.exclude(contact__email="")
        .filter(Exists(blocked))
        .values_list("contact_id", flat=True)
    )
    return {
        "no_email": len(no_email - in_plan),
        "blocked": len(only_blocked - in_plan - no_email),
    }


def _rejected_addresses(organization: Organization) -> set[tuple[int, str]]:
    """(contact, address) pairs the mail server refused for good (5xx) and that have not
    received a reminder since (an admin may have forced one through)."""
    last_refusal: dict[tuple[int, str], int] = {}
    for contact_id, address, email_id in ReminderEmail.objects.filter(
        organization=organization,
        outcome=EmailOutcome.FAILED,
        permanent=True,
        contact__isnull=False,
    ).values_list("contact_id", "address", "id"):
        key = (contact_id, address.lower())
        last_refusal[key] = max(email_id, last_refusal.get(key, 0))
    if not last_refusal:
        return set()
    for contact_id, address, email_id in ReminderEmail.objects.filter(
        organization=organization,
        outcome=EmailOutcome.SENT,
        contact_id__in={contact_id for contact_id, _ in last_refusal},
    ).values_list("contact_id", "address", "id"):
        key = (contact_id, address.lower())
        if key in last_refusal and email_id > last_refusal[key]:
            del last_refusal[key]
    return set(last_refusal)


def preview_sample(*, organization: Organization, language: str) -> Recipient | None:
    """The first contact due a reminder in `language`, for the preview; stops reading early."""
    for number in pending_numbers(organization=organization).iterator(chunk_size=200):
        if flyer_language(number.contact.language) == language:
            phones = [
                n.phone
                for n in pending_numbers(organization=organization).filter(
                    contact_id=number.contact_id
                )
            ]
            return Recipient(number.contact, list(dict.fromkeys(phones)))
    return None


def reminders_for_contact(contact: Contact) -> QuerySet[ReminderEmail]:
    """Every reminder email considered for the contact, newest first (sent, failed, skipped)."""
    return (
        ReminderEmail.objects.filter(contact=contact, organization_id=contact.organization_id)
        .select_related("run", "run__started_by")
        .order_by("-created_at", "-id")
    )


def runs_for_organization(*, organization: Organization, limit: int = 20) -> list[ReminderRun]:
    return list(
        ReminderRun.objects.filter(organization=organization).select_related("started_by")[:limit]
    )


def run_get(*, organization: Organization, run_id: int) -> ReminderRun | None:
    return (
        ReminderRun.objects.filter(organization=organization, pk=run_id)
        .select_related("started_by")
        .first()
    )


def run_active(*, organization: Organization) -> ReminderRun | None:
    return (
        ReminderRun.objects.filter(organization=organization, status__in=["queued", "running"])
        .order_by("-id")
        .first()
    )


def run_emails(*, run: ReminderRun) -> QuerySet[ReminderEmail]:
    return run.emails.select_related("contact").order_by("id")
