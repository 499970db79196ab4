"""Reads for the SMS Status report: an organization's (contact, SMS number) pairs by status.

Each pair's status is the consent status of the number on the organization's sender.

Numbers with no consent record on the sender (a contact added by hand before any import, say)
have never confirmed they want texts, so the report counts and lists them as Pending Opt-In, with
no "since" time and an empty history; the messaging pipeline still treats them as not opted in.

The pair list needs a LEFT JOIN between phone numbers and consent records on (sender, phone), a
relation the ORM has no path for, so these selectors are parameterized SQL over the models' tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import BlockedNumber, ConsentRecord, ConsentStatus
from schoolsms.consent.selectors import consent_history, consent_record_get, is_blocked
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.messaging.models import InboundText
from schoolsms.messaging.selectors import inbound_texts, invitations_of
from schoolsms.phones import InvalidPhoneNumber, to_e164

STATUS_LABELS = dict(ConsentStatus.choices)
NO_RECORD_STATUS = ConsentStatus.PENDING_OPT_IN


class UnknownNumber(LookupError):
    pass


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "pn": q(PhoneNumber._meta.db_table),
        "c": q(Contact._meta.db_table),
        "cr": q(ConsentRecord._meta.db_table),
        "b": q(BlockedNumber._meta.db_table),
    }


def _pairs_sql(
    select: str, *, status: str | None, after_id: int | None, tail: str, blocked: bool
) -> str:
    t = _tables()
    where = ["c.organization_id = %(org)s", "pn.sms_enabled"]
    if status is not None:
        where.append("COALESCE(cr.status, %(no_record)s) = %(status)s")
    if after_id is not None:
        where.append("pn.id > %(after)s")
    return (
        f"SELECT {select} FROM {t['pn']} pn "
        f"JOIN {t['c']} c ON c.id = pn.contact_id "
        f"LEFT JOIN {t['cr']} cr ON cr.sender_id = %(sender)s AND cr.phone = pn.phone "
        + (
            f"LEFT JOIN {t['b']} b ON b.organization_id = %(org)s AND b.phone = pn.phone "
            if blocked
            else ""
        )
        + f"WHERE {' AND '.join(where)} {tail}"
    )


def _params(org: Organization, **extra: Any) -> dict[str, Any]:
    return {"org": org.pk, "sender": org.sender_id, "no_record": NO_RECORD_STATUS, **extra}


def sms_status_totals(organization: Organization) -> dict[str, int]:
    """{label: number of (contact, SMS number) pairs} for every status, zeros included."""
    sql = _pairs_sql(
        "COALESCE(cr.status, %(no_record)s), COUNT(*)",
        status=None,
        after_id=None,
        tail="GROUP BY 1",
        blocked=False,
    )
    totals = {label: 0 for label in ConsentStatus.labels}
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(organization))
        for status, n in cursor.fetchall():
            totals[STATUS_LABELS[status]] += n
    return totals


def cannot_take_sms_total(organization: Organization) -> int:
    """Pairs counted in the totals whose number was marked unable to take SMS (failed
    permanently in three broadcasts in a row): broadcasts skip them as "no SMS number"."""
    return PhoneNumber.objects.filter(
        contact__organization=organization, sms_enabled=True, sms_capable=False
    ).count()


@dataclass
class StatusRow:
    id: int
    contact_id: int
    contact_external_id: str
    contact_name: str
    phone: str
    status: str
    status_changed_at: dt.datetime | None
    blocked: bool
    sms_capable: bool = True

    @property
    def sms_status(self) -> str:
        return STATUS_LABELS[self.status]


def _rows_sql(*, status: str | None, after_id: int | None, limit: bool) -> str:
    return _pairs_sql(
        "pn.id, c.id, c.external_id, c.first_name, c.last_name, pn.phone, "
        "COALESCE(cr.status, %(no_record)s), cr.changed_at, b.id IS NOT NULL, pn.sms_capable",
        status=status,
        after_id=after_id,
        tail="ORDER BY pn.id" + (" LIMIT %(limit)s" if limit else ""),
        blocked=True,
    )


def _to_row(raw: tuple[Any, ...]) -> StatusRow:
    pk, contact_id, ext, first, last, phone, status, changed_at, blocked, capable = raw
    if isinstance(changed_at, str):  # SQLite hands back text for raw SQL
        changed_at = dt.datetime.fromisoformat(changed_at)
    if changed_at is not None and changed_at.tzinfo is None:
        # ...or a naive datetime (its converter): stored UTC, so say so, or pages would show
        # the UTC wall clock under a local-time heading.
        changed_at = changed_at.replace(tzinfo=dt.UTC)
    return StatusRow(
        id=pk,
        contact_id=contact_id,
        contact_external_id=ext,
        contact_name=f"{first} {last}".strip(),
        phone=phone,
        status=status,
        status_changed_at=changed_at,
        blocked=bool(blocked),
        sms_capable=bool(capable),
    )


def sms_status_page(
    organization: Organization,
    *,
    status: str | None = None,
    after_id: int | None = None,
    size: int = 50,
) -> tuple[list[StatusRow], int | None]:
    """One page of pairs in number-id order; returns the rows and the cursor of the next page."""
    sql = _rows_sql(status=status, after_id=after_id, limit=True)
    params = _params(organization, status=status, after=after_id, limit=size + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [_to_row(r) for r in cursor.fetchall()]
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


def sms_status_rows(
    organization: Organization, *, status: str | None = None, chunk: int = 5000
) -> Iterator[StatusRow]:
    """Every pair, for exports: fetched page by page so memory stays flat."""
    after: int | None = None
    while True:
        rows, after = sms_status_page(organization, status=status, after_id=after, size=chunk)
        yield from rows
        if after is None:
            return


def sms_status_lookup(organization: Organization, text: str) -> dict[str, Any]:
    """Everything about one number typed in any common format.

    Raises InvalidPhoneNumber for text that is no number, UnknownNumber for a number the
    organization has no contact, consent record or block entry for."""
    phone = to_e164(text, organization.phone_region)
    record = consent_record_get(organization=organization, phone=phone)
    contacts = list(
        Contact.objects.filter(organization=organization, phones__phone=phone)
        .distinct()
        .order_by("last_name", "first_name", "id")
    )
    blocked = is_blocked(organization=organization, phone=phone)
    cannot_take_sms = PhoneNumber.objects.filter(
        contact__organization=organization, phone=phone, sms_capable=False
    ).exists()
    texts = list(inbound_texts(organization=organization, phone=phone))
    if record is None and not contacts and not blocked and not texts:
        raise UnknownNumber(f"{phone} is not a number of any contact in {organization.name}")
    history = list(consent_history(organization=organization, phone=phone)) if record else []
    status = record.status if record else NO_RECORD_STATUS
    last = history[-1] if history else None
    return {
        "phone": phone,
        "status": status,
        "sms_status": STATUS_LABELS[status],
        "status_changed_at": record.changed_at if record else None,
        "has_record": record is not None,
        "how": (last.get_source_display() if last else "No consent record yet"),
        "blocked": blocked,
        "cannot_take_sms": cannot_take_sms,
        "contacts": contacts,
        "history": history,
        "keyword_history": [_texted(t) for t in texts],
        "invitations": [
            {
                "at": m.created_at,
                "name": m.broadcast.name,
                "result": m.get_result_display(),
                "reason": m.get_reason_display() if m.reason else "",
            }
            for m in invitations_of(organization=organization, phone=phone)
        ],
    }


def _texted(text: InboundText) -> dict[str, Any]:
    """One text the number sent: what, when, what it changed, what we answered."""
    event = text.consent_event
    return {
        "at": text.received_at,
        "text": text.body,
        "keyword": text.get_kind_display(),
        "changed": (
            f"{STATUS_LABELS.get(event.old_status, 'No record')} → "
            f"{STATUS_LABELS[event.new_status]}"
            if event
            else "Nothing"
        ),
        "reply": text.reply,
        "via": text.channel,
        "message_id": text.carrier_message_id,
    }


def lookup_as_json(found: dict[str, Any]) -> dict[str, Any]:
    """The lookup in the CLI's and the API's JSON shape."""
    return {
        "phone": found["phone"],
        "sms_status": found["sms_status"],
        "status_changed_at": _iso(found["status_changed_at"]),
        "blocked": found["blocked"],
        "contacts": [
            {"external_id": c.external_id, "name": c.name, "role": c.get_role_display()}
            for c in found["contacts"]
        ],
        "keyword_history": [{**t, "at": _iso(t["at"])} for t in found["keyword_history"]],
        "invitations": [{**i, "at": _iso(i["at"])} for i in found["invitations"]],
        "history": [
            {
                "at": _iso(e.created_at),
                "from": STATUS_LABELS.get(e.old_status, ""),
                "to": STATUS_LABELS[e.new_status],
                "source": e.get_source_display(),
                "text": e.text,
                "by": e.actor_label,
            }
            for e in found["history"]
        ],
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


__all__ = [
    "InvalidPhoneNumber",
    "StatusRow",
    "UnknownNumber",
    "cannot_take_sms_total",
    "lookup_as_json",
    "sms_status_lookup",
    "sms_status_page",
    "sms_status_rows",
    "sms_status_totals",
]
