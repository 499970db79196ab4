"""Reads about broadcasts: who is in an audience, an organization's broadcasts, their counts, and
what the send loop has left to do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.contacts.selectors import contact_languages, school_names
from schoolsms.messaging.eligibility import ELIGIBLE, audience_checked
from schoolsms.messaging.languages import language_name
from schoolsms.messaging.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    DeliveryResult,
    InboundText,
    Message,
    Reason,
)


def audience_contacts(
    *,
    organization: Organization,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
) -> QuerySet[Contact]:
    """The contacts a broadcast reaches. Each non-empty filter narrows the audience (they are
    combined with AND); with no filter at all it is every active contact of the organization."""
    contacts = Contact.objects.filter(organization=organization, active=True)
    if roles:
        contacts = contacts.filter(role__in=list(roles))
    if schools:
        contacts = contacts.filter(school__in=list(schools))
    if external_ids:
        contacts = contacts.filter(external_id__in=list(external_ids))
    return contacts


def audience_preview(
    *,
    organization: Organization,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
) -> dict[str, int]:
    """How many contacts, and SMS-enabled numbers of theirs, an audience holds right now."""
    contacts = audience_contacts(
        organization=organization, roles=roles, schools=schools, external_ids=external_ids
    )
    numbers = PhoneNumber.objects.filter(contact__in=contacts, sms_enabled=True, sms_capable=True)
    return {"contacts": contacts.count(), "numbers": numbers.count()}


# What the compose page and the confirmations show, in this order: who gets the text, then
# each reason a row would be Ineligible to Send (fan-out's own order of checks).
BREAKDOWN_ORDER = (
    "",
    Reason.PENDING_OPT_IN.value,
    Reason.OPTED_OUT.value,
    Reason.NOT_OPTED_IN.value,
    Reason.BLOCKED.value,
    Reason.NO_SMS_NUMBER.value,
    Reason.DUPLICATE_NUMBER.value,
)


def audience_breakdown(
    *,
    organization: Organization,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """Who would get the text if the audience went out now, by fan-out's own rules (the one
    definition in messaging.eligibility): `{"contacts": n, "rows": n, "to_send": n,
    "by_reason": {reason: n}}`, where rows are the message rows fan-out would write (one per
    contact and SMS number, one for a contact with none), `to_send` those it would text, and
    by_reason every Ineligible to Send reason (in BREAKDOWN_ORDER, zeros included)."""
    contacts = audience_contacts(
        organization=organization, roles=roles, schools=schools, external_ids=external_ids
    )
    checked, params = audience_checked(organization=organization, contacts=contacts)
    by_reason = {code: 0 for code in BREAKDOWN_ORDER if code}
    to_send = rows = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT checked.reason, COUNT(*) FROM ({checked}) checked GROUP BY checked.reason",
            params,
        )
        for reason, n in cursor.fetchall():
            rows += n
            if reason == ELIGIBLE:
                to_send = n
            else:
                by_reason[reason] = by_reason.get(reason, 0) + n
    return {"contacts": contacts.count(), "rows": rows, "to_send": to_send, "by_reason": by_reason}


def external_ids_missing(*, organization: Organization, external_ids: Iterable[str]) -> list[str]:
    """The ids in `external_ids` that are not contacts of the organization, in the given order."""
    wanted = list(dict.fromkeys(external_ids))
    found: set[str] = set()
    for i in range(0, len(wanted), 5000):
        found.update(
            Contact.objects.filter(
                organization=organization, external_id__in=wanted[i : i + 5000]
            ).values_list("external_id", flat=True)
        )
    return [x for x in wanted if x not in found]


def organization_languages(organization: Organization) -> list[str]:
    """The languages (primary codes, like "es") of the organization's contacts other than
    English, that a broadcast may carry a text in; in code order."""
    found = set()
    for value in contact_languages(organization=organization):
        code = value.strip().lower().replace("_", "-").split("-")[0]
        if code and code != "en" and language_name(code) != code:
            found.add(code)
    return sorted(found)


def organization_schools(organization: Organization) -> list[str]:
    return school_names(organization=organization)


def broadcasts_for_org(organization: Organization) -> QuerySet[Broadcast]:
    return (
        Broadcast.objects.filter(organization=organization)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def broadcast_get(*, organization: Organization, broadcast_id: int) -> Broadcast | None:
    return broadcasts_for_org(organization).filter(pk=broadcast_id).first()


def _empty_counts() -> dict[str, Any]:
    return {
        "total": 0,
        "by_result": {label: 0 for label in DeliveryResult.labels},
        "by_reason": {code: 0 for code in Reason.values},
    }


def broadcast_counts_many(broadcast_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Counts for several broadcasts in one grouped query (the list page)."""
    ids = list(broadcast_ids)
    counts = {bid: _empty_counts() for bid in ids}
    if not ids:
        return counts
    label = dict(DeliveryResult.choices)
    rows = (
        Message.objects.filter(broadcast_id__in=ids)
        .values_list("broadcast_id", "result", "reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    for bid, result, reason, n in rows:
        entry = counts[bid]
        entry["total"] += n
        entry["by_result"][label[result]] += n
        if reason:
            entry["by_reason"][reason] = entry["by_reason"].get(reason, 0) + n
    return counts


def broadcast_counts(broadcast: Broadcast) -> dict[str, Any]:
    """`{"total": n, "by_result": {label: n} for all five results, "by_reason": {code: n}}` for
    every reason code; the message-row index on (broadcast, result, reason) answers it."""
    return broadcast_counts_many([broadcast.pk])[broadcast.pk]


def broadcast_progress(counts: dict[str, Any]) -> dict[str, int]:
    """Rows finished (sent or undelivered) out of all rows, for the progress bar."""
    by_result = counts["by_result"]
    pending = by_result[DeliveryResult.NOT_SENT_YET.label] + by_result[DeliveryResult.SENDING.label]
    total = counts["total"]
    done = total - pending
    return {"done": done, "total": total, "percent": round(100 * done / total) if total else 0}


# -- what the send loop has left to do ----------------------------------------------------------


def runnable_exists(*, broadcast_id: int, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        _never_tried_exists(broadcast_id)
        or _waiting(broadcast_id).filter(next_attempt_at__lte=now).exists()
    )


def fan_out_running(*, broadcast_id: int) -> bool:
    """Whether the broadcast is going out and its fan-out is still writing rows."""
    return Broadcast.objects.filter(
        pk=broadcast_id, status=BroadcastStatus.SENDING, fanned_out_at__isnull=True
    ).exists()


def next_attempt_at(*, broadcast_id: int) -> dt.datetime | None:
    """When the earliest waiting row of a broadcast still going out may be tried."""
    if not Broadcast.objects.filter(pk=broadcast_id, status=BroadcastStatus.SENDING).exists():
        return None
    if _never_tried_exists(broadcast_id):
        return timezone.now()
    return (
        _waiting(broadcast_id)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def _waiting(broadcast_id: int) -> QuerySet[Message]:
    """Rows to try again later (the message_waiting index holds exactly these)."""
    return Message.objects.filter(
        broadcast_id=broadcast_id, result=DeliveryResult.NOT_SENT_YET, next_attempt_at__isnull=False
    )


def _never_tried_exists(broadcast_id: int) -> bool:
    """Whether a Not Sent Yet row of the broadcast has no next_attempt_at. The send loop claims
    in id order, so such rows are the newest: looking from the newest down finds one at once
    (through the (broadcast, result, reason) index) instead of passing every row put back to
    wait for quiet hours."""
    return (
        Message.objects.filter(
            broadcast_id=broadcast_id,
            result=DeliveryResult.NOT_SENT_YET,
            reason="",
            next_attempt_at__isnull=True,
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        is not None
    )


def carrier_ids_known(*, carrier_ids: Iterable[str]) -> set[str]:
    """Which of these carrier message ids are on a message row (a receipt may arrive before
    the send's answer is recorded)."""
    ids = list(carrier_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        rows = Message.objects.filter(carrier_message_id__in=ids[start : start + 500])
        found.update(cid for cid in rows.values_list("carrier_message_id", flat=True) if cid)
    return found


def inbound_texts(*, organization: Organization, phone: str) -> QuerySet[InboundText]:
    """What a number texted to the organization's sender (keywords and anything else), oldest
    first, with the consent change each made. Consent belongs to the sender, so texts taken for
    another organization sharing it are listed too: they changed this number's status here."""
    return (
        InboundText.objects.filter(sender_id=organization.sender_id, phone=phone)
        .select_related("consent_event")
        .order_by("received_at", "id")
    )


def invitations_of(*, organization: Organization, phone: str) -> QuerySet[Message]:
    """The opt-in invitations the organization made for a number, oldest first."""
    return (
        Message.objects.filter(
            organization=organization, phone=phone, broadcast__kind=BroadcastKind.INVITATION
        )
        .select_related("broadcast")
        .order_by("id")
    )


def contact_messages_first(*, contact: Contact) -> tuple[int, dt.datetime | None]:
    """How many messages of the contact's organization went (or were meant) to the contact,
    and when the first was made."""
    found = Message.objects.filter(organization_id=contact.organization_id, contact=contact)
    totals = found.aggregate(n=Count("id"), first=Min("created_at"))
    return totals["n"], totals["first"]
