"""Fan-out: a broadcast's audience becomes message rows, with eligibility decided in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from schoolsms.contacts.models import Contact
from schoolsms.messaging.invitations import invitation_fan_out, language_q
from schoolsms.messaging.models import Broadcast, BroadcastKind, BroadcastStatus

# Order of checks (issue 3): no_sms_number, blocked, opted_out, pending_opt_in, not_opted_in;
# then, among rows still eligible, every row after the first for one phone is duplicate_number.
# Block list and consent belong to the phone, so an earlier row of the audience with the same
# SMS number is eligible exactly when this one is: the duplicate test is an EXISTS on the
# phone index, asked only for numbers listed more than once at all (found once, from the
# phone index alone), which is far cheaper than a window over a million rows. One statement
# for SQLite and PostgreSQL; the inner `contacts_contact` shadows the outer one, so the
# audience clause applies to the earlier row's contact too.
# The eligibility of every (contact, SMS number) row of an audience: one row per contact and
# SMS number (a contact with none gets one row with a NULL phone) and its reason ('' when it
# may be sent). Parameters: the audience's (for the EXISTS), sender id, organization id, the
# audience's again. Fan-out inserts these rows; the compose page counts them by reason.
ELIGIBILITY_SQL = """
    SELECT contacts_contact.id AS contact_id, p.phone AS phone, p.position AS position,
        CASE
            WHEN p.phone IS NULL THEN 'no_sms_number'
            WHEN bn.id IS NOT NULL THEN 'blocked'
            WHEN cr.status = 'opted_out' THEN 'opted_out'
            WHEN cr.status = 'pending' THEN 'pending_opt_in'
            WHEN cr.status IS NULL THEN 'not_opted_in'
            WHEN p.phone IN (
                SELECT phone FROM contacts_phonenumber GROUP BY phone HAVING COUNT(*) > 1
            ) AND EXISTS (
                SELECT 1 FROM contacts_phonenumber p2
                JOIN contacts_contact ON contacts_contact.id = p2.contact_id
                WHERE p2.phone = p.phone AND p2.sms_enabled AND p2.sms_capable
                    AND (p2.contact_id < p.contact_id
                         OR (p2.contact_id = p.contact_id AND p2.position < p.position))
                    AND {audience}
            ) THEN 'duplicate_number'
            ELSE ''
        END AS reason
    FROM contacts_contact
    LEFT JOIN contacts_phonenumber p
        ON p.contact_id = contacts_contact.id AND p.sms_enabled AND p.sms_capable
    LEFT JOIN consent_consentrecord cr ON cr.sender_id = %s AND cr.phone = p.phone
    LEFT JOIN consent_blockednumber bn ON bn.organization_id = %s AND bn.phone = p.phone
    WHERE {audience}
"""

_FAN_OUT_SQL = (
    """
INSERT INTO messaging_message (
    broadcast_id, organization_id, sender_id, contact_id, phone,
    result, reason, carrier_code, attempts, created_at, updated_at
)
SELECT %s, %s, %s, checked.contact_id, checked.phone,
    CASE WHEN checked.reason = '' THEN 'not_sent_yet' ELSE 'ineligible' END,
    checked.reason, '', 0, %s, %s
FROM ("""
    + ELIGIBILITY_SQL
    + """) checked
ORDER BY checked.contact_id, checked.position
"""
)


# Page cache for the fan-out INSERT on SQLite, in KiB. With the usual 64 MB a million-row
# insert spills dirty pages to the WAL mid-transaction, then reads back and rewrites the same
# (organization, phone, id) index leaves again and again, as its keys land at random places.
FAN_OUT_CACHE_KIB = 512_000


@contextmanager
def _roomy_page_cache(cursor: Any) -> Iterator[None]:
    """On SQLite, a larger page cache for one statement; the connection's size comes back after."""
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    previous = int(cursor.fetchone()[0])
    cursor.execute(f"PRAGMA cache_size = {-FAN_OUT_CACHE_KIB:d}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {previous:d}")


def audience_where(broadcast: Broadcast) -> tuple[str, list[Any]]:
    """The audience as a WHERE clause on contacts_contact, compiled by the ORM."""
    # Inactive contacts (gone from the school system's roster) are never texted: no row at all.
    contacts = Contact.objects.filter(organization_id=broadcast.organization_id, active=True)
    if broadcast.audience_roles:
        contacts = contacts.filter(role__in=broadcast.audience_roles)
    if broadcast.audience_schools:
        contacts = contacts.filter(school__in=broadcast.audience_schools)
    if broadcast.audience_external_ids:
        contacts = contacts.filter(external_id__in=broadcast.audience_external_ids)
    if broadcast.audience_languages:
        contacts = contacts.filter(
            reduce(or_, (language_q(code) for code in broadcast.audience_languages))
        )
    query = contacts.query
    sql, params = query.get_compiler(using="default").compile(query.where)
    return sql, list(params)


def broadcast_fan_out(*, broadcast_id: int, now: dt.datetime | None = None) -> int | None:
    """Create the broadcast's message rows, once. Returns how many rows were created, or None
    when it was already dispatched (or is no longer going out)."""
    now = now or timezone.now()
    # On SQLite every inserted row would look up its four parents; all four were read in this
    # same write transaction (the contacts by the SELECT itself), so the checks can only pass.
    # Django pauses them only outside a transaction (a no-op on PostgreSQL, or when nested).
    paused = connection.disable_constraint_checking()
    try:
        return _fan_out(broadcast_id=broadcast_id, now=now)
    finally:
        if paused:
            connection.enable_constraint_checking()


def _fan_out(*, broadcast_id: int, now: dt.datetime) -> int | None:
    with transaction.atomic():
        # The dispatched_at compare-and-set makes a second dispatch (a retried task, a second
        # worker) a no-op; it commits together with the rows.
        claimed = Broadcast.objects.filter(
            pk=broadcast_id, dispatched_at__isnull=True, status=BroadcastStatus.SENDING
        ).update(dispatched_at=now)
        if claimed != 1:
            return None
        broadcast = Broadcast.objects.select_related("organization").get(pk=broadcast_id)
        if broadcast.kind == BroadcastKind.INVITATION:
            return invitation_fan_out(broadcast=broadcast, now=now)
        org = broadcast.organization
        where_sql, where_params = audience_where(broadcast)
        stamp = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor, _roomy_page_cache(cursor):
            cursor.execute(
                _FAN_OUT_SQL.format(audience=where_sql),
                [
                    broadcast.pk,
                    org.pk,
                    org.sender_id,
                    stamp,
                    stamp,
                    *where_params,  # the EXISTS comes first in the text
                    org.sender_id,
                    org.pk,
                    *where_params,
                ],
            )
            return int(cursor.rowcount)
