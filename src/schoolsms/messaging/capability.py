"""Numbers that cannot take SMS: marked after three permanent failures in a row (an admin clears
the mark with contacts.services.phone_capability_reset)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from schoolsms.contacts.services import phones_mark_not_capable
from schoolsms.messaging.models import DeliveryResult, Message, Reason

FAILURES_IN_A_ROW = 3
_INCAPABLE = (Reason.CONTACT_ACCOUNT, Reason.NO_SMS_CAPABILITY)
# Rows that reached the carrier: the ones that say whether the number works.
_ATTEMPTED = Q(result__in=[DeliveryResult.SENT, DeliveryResult.FAILED_TO_SEND])


def capability_check(*, organization_id: int, phones: Iterable[str]) -> list[str]:
    """Mark numbers whose last three attempted broadcasts all failed permanently as
    contact_account or no_sms_capability. Returns the numbers newly marked."""
    failing = []
    for phone in sorted(set(phones)):
        last = list(
            Message.objects.filter(_ATTEMPTED, organization_id=organization_id, phone=phone)
            .order_by("-broadcast_id", "-id")
            .values_list("broadcast_id", "result", "reason")[: FAILURES_IN_A_ROW * 2]
        )
        per_broadcast: dict[int, tuple[str, str]] = {}
        for broadcast_id, result, reason in last:
            per_broadcast.setdefault(broadcast_id, (result, reason))
        recent = list(per_broadcast.values())[:FAILURES_IN_A_ROW]
        if len(recent) == FAILURES_IN_A_ROW and all(
            result == DeliveryResult.FAILED_TO_SEND and reason in _INCAPABLE
            for result, reason in recent
        ):
            failing.append(phone)
    return phones_mark_not_capable(organization_id=organization_id, phones=failing)
