"""Reads of contacts for pages and the API: search, detail, and each number's consent state."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import BlockedNumber, ConsentEvent, ConsentRecord, ConsentStatus
from schoolsms.contacts.models import Contact, ImportJob, ImportSource, PhoneNumber
from schoolsms.phones import InvalidPhoneNumber, display, to_e164

# The contacts list's filter value for contacts with a number marked unable to take SMS.
CANNOT_TAKE_SMS = "cannot_take_sms"
_DIGITS = re.compile(r"\d")
_PHONE_CHARS = re.compile(r"^[\d\s().+-]+$")


def _phone_query(text: str, region: str) -> Q | None:
    """A number typed in any format matches exactly; four or more bare digits match a part."""
    digits = "".join(_DIGITS.findall(text))
    if len(digits) < 4:
        return None
    try:
        e164 = to_e164(text, region)
    except InvalidPhoneNumber:
        if not _PHONE_CHARS.match(text):
            return None  # letters mixed in: not a number
        return Q(id__in=PhoneNumber.objects.filter(phone__contains=digits).values("contact_id"))
    return Q(id__in=PhoneNumber.objects.filter(phone=e164).values("contact_id"))


def contact_search(
    *,
    organization: Organization,
    query: str = "",
    role: str = "",
    school: str = "",
    sms_status: str = "",
) -> QuerySet[Contact]:
    """The organization's contacts matching every word of `query` (name, external id, email;
    "Adams, William" as lists show names finds William Adams) or the whole query as a phone
    number; optionally only one role, one school, and contacts with a number in one SMS
    status (`opted_in`, `pending`, `opted_out`) or that cannot take SMS (`cannot_take_sms`)."""
    qs = Contact.objects.filter(organization=organization)
    if sms_status == CANNOT_TAKE_SMS:
        qs = qs.filter(phones__sms_capable=False).distinct()
    elif sms_status:
        consent = ConsentRecord.objects.filter(
            sender_id=organization.sender_id, phone=OuterRef("phone"), status=sms_status
        )
        numbers = PhoneNumber.objects.filter(sms_enabled=True).filter(Exists(consent))
        qs = qs.filter(id__in=numbers.values("contact_id"))
    if role:
        qs = qs.filter(role=role)
    if school:
        qs = qs.filter(school=school)
    text = query.strip()
    if text:
        by_words = Q()
        for word in re.split(r"[\s,;]+", text):
            if not word:
                continue
            by_words &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(external_id__iexact=word)
                | Q(email__icontains=word)
            )
        phone = _phone_query(text, organization.phone_region)
        qs = qs.filter(by_words | phone if phone is not None else by_words)
    return qs.order_by("last_name", "first_name", "id")


def contact_get(*, organization: Organization, pk: int) -> Contact | None:
    return Contact.objects.filter(organization=organization, pk=pk).first()


def _distinct_values(
    organization: Organization, column: Literal["school", "language"]
) -> list[str]:
    """The distinct non-empty values of a Contact column in one organization, in order, read
    as one index seek per value (a "loose index scan" over the index on (organization,
    column)) instead of a pass over every contact: a district has 200,000 contacts and forty
    schools."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    col = connection.ops.quote_name(column)  # the field's name is its column's
    sql = (
        f"WITH RECURSIVE found(value) AS ("
        f" SELECT MIN({col}) FROM {table} WHERE organization_id = %s AND {col} > ''"
        f" UNION ALL SELECT (SELECT MIN({col}) FROM {table}"
        f"  WHERE organization_id = %s AND {col} > found.value)"
        f" FROM found WHERE found.value IS NOT NULL"
        f") SELECT value FROM found WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization.pk, organization.pk])
        return [value for (value,) in cursor.fetchall()]


def school_names(*, organization: Organization) -> list[str]:
    """The schools the organization's contacts are in, in order (the filters' choices)."""
    return _distinct_values(organization, "school")


def contact_languages(*, organization: Organization) -> list[str]:
    """The language values of the organization's contacts as the school system wrote them."""
    return _distinct_values(organization, "language")


@dataclass
class NumberState:
    """One of a contact's numbers with what the school needs to know before texting it."""

    position: int
    phone: str
    sms_enabled: bool
    sms_capable: bool
    status: str | None  # a ConsentStatus value, or None: no record on this sender
    status_label: str
    changed_at: dt.datetime | None
    blocked: bool
    block_reason: str = ""
    history: list[ConsentEvent] = field(default_factory=list)

    @property
    def display(self) -> str:
        return display(self.phone)


def _consent_map(organization: Organization, phones: Iterable[str]) -> dict[str, ConsentRecord]:
    return {
        r.phone: r
        for r in ConsentRecord.objects.filter(sender_id=organization.sender_id, phone__in=phones)
    }


def _blocked_map(organization: Organization, phones: Iterable[str]) -> dict[str, BlockedNumber]:
    return {
        b.phone: b
        for b in BlockedNumber.objects.filter(organization=organization, phone__in=phones)
    }


def number_states(
    *, organization: Organization, numbers: Iterable[PhoneNumber], with_history: bool = False
) -> list[NumberState]:
    numbers = list(numbers)
    phones = {n.phone for n in numbers}
    records = _consent_map(organization, phones)
    blocked = _blocked_map(organization, phones)
    history: dict[str, list[ConsentEvent]] = {}
    if with_history and records:
        events = (
            ConsentEvent.objects.filter(record__in=records.values())
            .select_related("record")
            .order_by("created_at", "id")
        )
        for event in events:
            history.setdefault(event.record.phone, []).append(event)
    states = []
    for n in numbers:
        record = records.get(n.phone)
        block = blocked.get(n.phone)
        states.append(
            NumberState(
                position=n.position,
                phone=n.phone,
                sms_enabled=n.sms_enabled,
                sms_capable=n.sms_capable,
                status=record.status if record else None,
                status_label=(
                    ConsentStatus(record.status).label if record else "No consent record"
                ),
                changed_at=record.changed_at if record else None,
                blocked=block is not None,
                block_reason=block.reason if block else "",
                history=history.get(n.phone, []),
            )
        )
    return states


def contact_numbers(*, contact: Contact, with_history: bool = True) -> list[NumberState]:
    return number_states(
        organization=contact.organization,
        numbers=contact.phones.all(),
        with_history=with_history,
    )


def numbers_for_contacts(
    *, organization: Organization, contacts: Iterable[Contact]
) -> dict[int, list[NumberState]]:
    """Every listed contact's numbers with consent and block state, in three queries."""
    ids = [c.pk for c in contacts]
    numbers = list(
        PhoneNumber.objects.filter(contact_id__in=ids).order_by("contact_id", "position")
    )
    states = number_states(organization=organization, numbers=numbers)
    result: dict[int, list[NumberState]] = {pk: [] for pk in ids}
    for number, state in zip(numbers, states, strict=True):
        result[number.contact_id].append(state)
    return result


def import_jobs_recent(*, organization: Organization, limit: int = 10) -> list[ImportJob]:
    """The organization's latest imports (uploads and syncs), newest first."""
    jobs = ImportJob.objects.filter(organization=organization).select_related("created_by")
    return list(jobs.order_by("-created_at", "-id")[:limit])


def import_job_get(*, organization: Organization, pk: int) -> ImportJob | None:
    return ImportJob.objects.filter(organization=organization, pk=pk).first()


def import_job_in(
    *, organization_ids: Iterable[int] | QuerySet[Any, Any], pk: int
) -> ImportJob | None:
    """An import of any of these organizations (an API token may act in several)."""
    jobs = ImportJob.objects.filter(organization_id__in=organization_ids, pk=pk)
    return jobs.select_related("organization").first()


def roster_sync_last(*, organization: Organization) -> ImportJob | None:
    """The latest import from the drop folder (the nightly sync), whatever its outcome."""
    return (
        ImportJob.objects.filter(organization=organization, source=ImportSource.FOLDER)
        .order_by("-created_at", "-id")
        .first()
    )


def contact_guardians(*, contact: Contact) -> list[Contact]:
    """The guardians the roster links to this student."""
    return list(
        Contact.objects.filter(student_links__student=contact).order_by("last_name", "first_name")
    )


def contact_students(*, contact: Contact) -> list[Contact]:
    """The students the roster links to this guardian."""
    return list(
        Contact.objects.filter(guardian_links__guardian=contact).order_by("last_name", "first_name")
    )
