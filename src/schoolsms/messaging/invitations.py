"""Opt-in invitations, who gets one: one text ("Reply Y to get texts from …") to each Pending
Opt-In number that has not been invited, in its contact's language (services.invitations_send
sends them).

An invitation is a Broadcast of kind "invitation", one per language, whose message rows take the
normal pipeline (throttle, quiet hours, retries, receipts, reconciliation) and so show in the
SMS Log. Which numbers it is for is decided here, at fan-out, in SQL:

- the number is Pending Opt-In on the sender (never Opted Out, Opted In or without a record),
  SMS-enabled, not marked unable to take SMS, and not on the organization's block list;
- it has not been invited since it last became Pending Opt-In, nor in the last 30 days (an
  invitation counts once it was not refused by our own rules: sent, failed or still going);
  a contact's new number has never been invited, so it is;
- a number several contacts share is invited once, in the language of the first of them.

At send time the re-check holds an invitation to the same rule: a number that opted in, out
or was blocked meanwhile is not sent it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import Contact
from schoolsms.messaging.models import Broadcast
from schoolsms.messaging.replies import DEFAULT_LANGUAGE, LANGUAGES
from schoolsms.messaging.transitions import invitation_rows_sql

INVITE_AGAIN_AFTER = dt.timedelta(days=30)


def language_q(language: str, field: str = "language") -> Q:
    """Contacts whose language is `language` as messaging.replies.language_of reads it."""
    others = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
    if language != DEFAULT_LANGUAGE:
        return Q(**{f"{field}__iexact": language}) | Q(**{f"{field}__istartswith": f"{language}-"})
    q = Q()
    for code in others:
        q &= ~language_q(code, field)
    return q


# One row per number to invite: the first (contact, position) of the organization with that
# SMS number; `{audience}` narrows the contacts (a language), `{earlier}` is the same test
# without it, so a number shared across languages goes to the first contact's language only.
_INVITABLE = """
SELECT p.contact_id, p.phone
FROM contacts_phonenumber p
JOIN contacts_contact ON contacts_contact.id = p.contact_id
JOIN consent_consentrecord cr
    ON cr.sender_id = %(sender)s AND cr.phone = p.phone AND cr.status = 'pending'
WHERE contacts_contact.organization_id = %(org)s AND {audience}
    AND p.sms_enabled AND p.sms_capable
    AND NOT EXISTS (
        SELECT 1 FROM consent_blockednumber bn
        WHERE bn.organization_id = %(org)s AND bn.phone = p.phone
    )
    AND NOT EXISTS (
        SELECT 1 FROM contacts_phonenumber p2
        JOIN contacts_contact c2 ON c2.id = p2.contact_id
        WHERE p2.phone = p.phone AND c2.organization_id = %(org)s
            AND p2.sms_enabled AND p2.sms_capable
            AND (p2.contact_id < p.contact_id
                 OR (p2.contact_id = p.contact_id AND p2.position < p.position))
    )
    AND NOT EXISTS (
        SELECT 1 FROM messaging_message m
        JOIN messaging_broadcast b ON b.id = m.broadcast_id
        WHERE m.organization_id = %(org)s AND m.phone = p.phone
            AND b.kind = 'invitation' AND m.result <> 'ineligible'
            AND m.broadcast_id <> %(broadcast)s
            AND (m.created_at >= cr.changed_at OR m.created_at >= %(since)s)
    )
"""


def _invitable_sql(
    organization: Organization, language: str, now: dt.datetime, broadcast_id: int = 0
) -> tuple[str, dict[str, Any]]:
    contacts = Contact.objects.filter(language_q(language))
    query = contacts.query
    where, where_params = query.get_compiler(using="default").compile(query.where)
    # The ORM's WHERE uses %s placeholders; ours are named: name its values too.
    names = [f"a{i}" for i in range(len(where_params))]
    audience = where % tuple(f"%({n})s" for n in names) if names else (where or "1 = 1")
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "org": organization.pk,
        "sender": organization.sender_id,
        "broadcast": broadcast_id,
        "since": adapt(now - INVITE_AGAIN_AFTER),
        "now": adapt(now),
        **dict(zip(names, where_params, strict=True)),
    }
    return _INVITABLE.format(audience=audience), params


def invitable_counts(
    *, organization: Organization, now: dt.datetime | None = None
) -> dict[str, int]:
    """How many numbers an invitation would go to now, per built-in language."""
    now = now or timezone.now()
    counts = {}
    with connection.cursor() as cursor:
        for language in LANGUAGES:
            sql, params = _invitable_sql(organization, language, now)
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) invitable", params)
            counts[language] = int(cursor.fetchone()[0])
    return counts


def invitation_fan_out(*, broadcast: Broadcast, now: dt.datetime) -> int:
    """The invitation's message rows (called by dispatch's fan-out inside its transaction)."""
    # One invitation fan-out per organization at a time (the row lock; SQLite's write lock
    # does the same), so two at once cannot both find a number not yet invited.
    Organization.objects.select_for_update().filter(pk=broadcast.organization_id).first()
    [language] = broadcast.audience_languages or [DEFAULT_LANGUAGE]
    invitable, params = _invitable_sql(broadcast.organization, language, now, broadcast.pk)
    with connection.cursor() as cursor:
        cursor.execute(invitation_rows_sql(invitable), params)
        return int(cursor.rowcount)
