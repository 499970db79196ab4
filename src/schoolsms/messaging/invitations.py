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
from django.db.models import Q, QuerySet
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentStatus
from schoolsms.contacts.models import Contact
from schoolsms.messaging.eligibility import ELIGIBLE, audience_checked
from schoolsms.messaging.models import Broadcast, BroadcastKind, DeliveryResult
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


# One row per number to invite: the audience's numbers the eligibility rules let through when
# Pending Opt-In passes (messaging.eligibility, with its first-contact-of-the-organization rule
# for shared numbers) that are Pending Opt-In, and not invited lately.
_INVITABLE = f"""
SELECT checked.contact_id, checked.phone
FROM ({{checked}}) checked
JOIN consent_consentrecord cr ON cr.sender_id = %s AND cr.phone = checked.phone
    AND cr.status = '{ConsentStatus.PENDING_OPT_IN.value}'
WHERE checked.reason = '{ELIGIBLE}'
    AND NOT EXISTS (
        SELECT 1 FROM messaging_message m
        JOIN messaging_broadcast b ON b.id = m.broadcast_id
        WHERE m.organization_id = %s AND m.phone = checked.phone
            AND b.kind = '{BroadcastKind.INVITATION.value}'
            AND m.result <> '{DeliveryResult.INELIGIBLE_TO_SEND.value}'
            AND m.broadcast_id <> %s
            AND (m.created_at >= cr.changed_at OR m.created_at >= %s)
    )
"""


def invitation_audience(*, organization: Organization, language: str) -> QuerySet[Contact]:
    """The contacts an invitation in `language` is for (before the rules above)."""
    return Contact.objects.filter(organization=organization).filter(language_q(language))


def invitable_sql(
    *,
    organization: Organization,
    contacts: QuerySet[Contact],
    now: dt.datetime,
    broadcast_id: int = 0,
) -> tuple[str, list[Any]]:
    """A SELECT of (contact_id, phone): the numbers of `contacts` to invite now."""
    checked, params = audience_checked(
        organization=organization, contacts=contacts, invitation=True
    )
    since = connection.ops.adapt_datetimefield_value(now - INVITE_AGAIN_AFTER)
    return _INVITABLE.format(checked=checked), [
        *params,
        organization.sender_id,
        organization.pk,
        broadcast_id,
        since,
    ]


def invitable_counts(
    *, organization: Organization, now: dt.datetime | None = None
) -> dict[str, int]:
    """How many numbers an invitation would go to now, per built-in language."""
    now = now or timezone.now()
    counts = {}
    with connection.cursor() as cursor:
        for language in LANGUAGES:
            contacts = invitation_audience(organization=organization, language=language)
            sql, params = invitable_sql(organization=organization, contacts=contacts, now=now)
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) invitable", params)
            counts[language] = int(cursor.fetchone()[0])
    return counts


def invitation_fan_out(
    *, broadcast: Broadcast, contacts: QuerySet[Contact], now: dt.datetime
) -> int:
    """The invitation's rows for `contacts` (a chunk of its audience), called by dispatch's
    fan-out inside the chunk's transaction; the rows' created_at is its dispatched_at."""
    # One invitation fan-out per organization at a time (the row lock; SQLite's write lock
    # does the same), so two at once cannot both find a number not yet invited.
    Organization.objects.select_for_update().filter(pk=broadcast.organization_id).first()
    organization = broadcast.organization
    invitable, params = invitable_sql(
        organization=organization, contacts=contacts, now=now, broadcast_id=broadcast.pk
    )
    stamp = connection.ops.adapt_datetimefield_value(broadcast.dispatched_at)
    with connection.cursor() as cursor:
        cursor.execute(
            invitation_rows_sql(invitable),
            [broadcast.pk, organization.pk, organization.sender_id, stamp, stamp, *params],
        )
        return int(cursor.rowcount)
