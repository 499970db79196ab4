"""Reads about broadcasts: who is in an audience, an organization's broadcasts, their counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, QuerySet

from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.messaging.models import Broadcast, DeliveryResult, Message, Reason


def audience_contacts(
    *,
    organization: Organization,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
) -> QuerySet[Contact]:
    """The contacts a broadcast reaches. Each non-empty filter narrows the audience (they are
    combined with AND); with no filter at all it is every contact of the organization."""
    contacts = Contact.objects.filter(organization=organization)
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


def organization_schools(organization: Organization) -> list[str]:
    return list(
        Contact.objects.filter(organization=organization)
        .exclude(school="")
        .values_list("school", flat=True)
        .distinct()
        .order_by("school")
    )


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
