"""What follows a refusal for good: Opted Out recorded when the carrier says the number texted
STOP, and the number's capability checked after failures that point at the phone."""

from __future__ import annotations

from collections.abc import Iterable

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentSource, ConsentStatus
from schoolsms.consent.services import consent_change
from schoolsms.messaging.capability import capability_check
from schoolsms.messaging.models import Message, Reason

_CAPABILITY_REASONS = {Reason.CONTACT_ACCOUNT.value, Reason.NO_SMS_CAPABILITY.value}


def opt_out_by_carrier(*, refused: Iterable[tuple[int, str]]) -> None:
    """The carrier refused these rows because the number texted STOP to this sender: record
    it as consent. `refused`: (message id, the carrier code that arrived)."""
    code_of = dict(refused)
    rows = Message.objects.filter(pk__in=list(code_of)).select_related("sender")
    for message in rows:
        if message.phone:
            consent_change(
                sender=message.sender,
                phone=message.phone,
                new_status=ConsentStatus.OPTED_OUT,
                source=ConsentSource.CARRIER,
                text=f"carrier code {code_of[message.pk]}",
                organization=Organization.objects.filter(pk=message.organization_id).first(),
            )


def after_failures(*, organization_id: int, failed: Iterable[tuple[str, str]]) -> None:
    """Follow-ups once rows failed permanently: (phone, reason) pairs."""
    phones = [phone for phone, reason in failed if phone and reason in _CAPABILITY_REASONS]
    if phones:
        capability_check(organization_id=organization_id, phones=phones)
