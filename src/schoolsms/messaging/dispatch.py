"""Fan-out: a broadcast's audience becomes message rows, chunk by chunk of contacts (in id
order), each chunk one INSERT ... SELECT with eligibility decided in SQL (messaging.eligibility)
committed together with the broadcast's progress: sending starts after the first chunk, and a
fan-out that stopped (a worker killed, a task retried) resumes after the last chunk written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from schoolsms.contacts.models import Contact
from schoolsms.messaging.eligibility import Texted, audience_checked
from schoolsms.messaging.invitations import invitation_audience, invitation_fan_out, language_q
from schoolsms.messaging.models import Broadcast, BroadcastKind, BroadcastStatus, Message
from schoolsms.messaging.replies import DEFAULT_LANGUAGE
from schoolsms.messaging.selectors import audience_contacts
from schoolsms.messaging.transitions import fan_out_sql
from schoolsms.operations.statistics import statistics_refresh

# Contacts in the first chunk: few, so the first texts leave at once whatever the size of the
# audience. The others (SCHOOLSMS_FAN_OUT_CHUNK) are big enough that a chunk's fixed costs
# hardly count, and small enough that SQLite's write lock is not kept from senders for long.
FIRST_CHUNK = 1_000

# The tables the fan-out's INSERT ... SELECT reads.
FAN_OUT_TABLES = (
    "contacts_contact",
    "contacts_phonenumber",
    "consent_consentrecord",
    "consent_blockednumber",
    "messaging_message",
)

# Page cache for the fan-out INSERT on SQLite, in KiB. With the usual 64 MB a big insert
# spills dirty pages to the WAL mid-transaction, then reads back and rewrites the same
# (organization, phone, id) index leaves again and again, as its keys land at random places.
FAN_OUT_CACHE_KIB = 512_000


@dataclass(frozen=True)
class FanOutStep:
    created: int  # rows written by this step
    first: bool  # it wrote the broadcast's first chunk: sending may start
    done: bool  # every row of the broadcast is written now


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


def broadcast_fan_out(*, broadcast_id: int, now: dt.datetime | None = None) -> int | None:
    """Write the broadcast's rows (those still to write), chunk after chunk. Returns how many
    rows were written, or None when there was nothing to do (already fanned out, or no longer
    going out)."""
    created: int | None = None
    while (step := fan_out_step(broadcast_id=broadcast_id, now=now)) is not None:
        created = (created or 0) + step.created
        if step.done:
            break
    return created


def fan_out_step(
    *, broadcast_id: int, now: dt.datetime | None = None, size: int | None = None
) -> FanOutStep | None:
    """Write the rows of the broadcast's next chunk of audience contacts, and commit them.
    None when there is nothing to write: the broadcast is fanned out already, no longer going
    out (canceled), or another worker wrote this chunk first."""
    now = now or timezone.now()
    # On SQLite every inserted row would look up its four parents; all four were read in this
    # same write transaction (the contacts by the SELECT itself), so the checks can only pass.
    # Django pauses them only outside a transaction (a no-op on PostgreSQL, or when nested).
    paused = connection.disable_constraint_checking()
    try:
        return _step(broadcast_id=broadcast_id, now=now, size=size)
    finally:
        if paused:
            connection.enable_constraint_checking()


def _audience(broadcast: Broadcast) -> QuerySet[Contact]:
    org = broadcast.organization
    if broadcast.kind == BroadcastKind.INVITATION:
        [language] = broadcast.audience_languages or [DEFAULT_LANGUAGE]
        return invitation_audience(organization=org, language=language)
    contacts = audience_contacts(
        organization=org,
        roles=broadcast.audience_roles,
        schools=broadcast.audience_schools,
        external_ids=broadcast.audience_external_ids,
    )
    if broadcast.audience_languages:
        contacts = contacts.filter(
            reduce(or_, (language_q(code) for code in broadcast.audience_languages))
        )
    return contacts


def _step(*, broadcast_id: int, now: dt.datetime, size: int | None) -> FanOutStep | None:
    broadcast = (
        Broadcast.objects.select_related("organization")
        .filter(pk=broadcast_id, status=BroadcastStatus.SENDING, fanned_out_at__isnull=True)
        .first()
    )
    if broadcast is None:
        return None
    low = broadcast.fan_out_cursor
    chunk_size = settings.SCHOOLSMS_FAN_OUT_CHUNK
    size = size or (min(FIRST_CHUNK, chunk_size) if low == 0 else chunk_size)
    # PostgreSQL plans the chunk's look-ups from these tables' statistics: fresh ones first.
    statistics_refresh(tables=FAN_OUT_TABLES)
    audience = _audience(broadcast)
    # The chunk: the next `size` audience contacts by id (through the organization index,
    # whose entries are in id order within the organization).
    bounds = (
        audience.filter(pk__gt=low)
        .order_by("pk")[:size]
        .aggregate(high=Max("pk"), count=Count("pk"))
    )
    high = bounds["high"] or low
    done = bounds["count"] < size
    started = broadcast.dispatched_at or now
    with transaction.atomic():
        # Compare-and-set on the progress: the chunk's rows commit with it, and a second
        # fan-out of the same chunk (a retried task, another worker) moves nothing.
        moved = Broadcast.objects.filter(
            pk=broadcast_id,
            status=BroadcastStatus.SENDING,
            fanned_out_at__isnull=True,
            fan_out_cursor=low,
        ).update(fan_out_cursor=high, dispatched_at=started, fanned_out_at=now if done else None)
        if moved != 1:
            return None
        broadcast.dispatched_at = started
        created = 0
        if high > low:
            chunk = audience.filter(pk__gt=low, pk__lte=high)
            if broadcast.kind == BroadcastKind.INVITATION:
                created = invitation_fan_out(broadcast=broadcast, contacts=chunk, now=now)
            else:
                created = _rows_write(broadcast, chunk)
    return FanOutStep(created=created, first=low == 0, done=done)


def _rows_write(broadcast: Broadcast, chunk: QuerySet[Contact]) -> int:
    """One chunk's rows, Not Sent Yet or Ineligible to Send, in the chunk's transaction."""
    org = broadcast.organization
    # Every row of a broadcast has its dispatched_at as created_at: the first in (created_at,
    # id) order, one step in the message_broadcast_time index, has the lowest id.
    first_row = (
        Message.objects.filter(broadcast_id=broadcast.pk)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
        .first()
    )
    texted = None if first_row is None else Texted(broadcast.pk, first_row)
    checked, params = audience_checked(organization=org, contacts=chunk, texted=texted)
    stamp = connection.ops.adapt_datetimefield_value(broadcast.dispatched_at)
    with connection.cursor() as cursor, _roomy_page_cache(cursor):
        after_id = _last_row_id(cursor) if broadcast.texts else 0
        cursor.execute(
            fan_out_sql(checked), [broadcast.pk, org.pk, org.sender_id, stamp, stamp, *params]
        )
        created = int(cursor.rowcount)
        _languages_mark(cursor, broadcast, after_id)
        return created


def _last_row_id(cursor: Any) -> int:
    cursor.execute("SELECT MAX(id) FROM messaging_message")
    return int(cursor.fetchone()[0] or 0)


def _languages_mark(cursor: Any, broadcast: Broadcast, after_id: int) -> None:
    """The chunk's rows (ids above `after_id`) of contacts whose language has a text of its
    own get that language (the rest keep "en"), in the chunk's transaction; a contact's
    "es-MX" matches a text in "es"."""
    for code in broadcast.texts:
        cursor.execute(
            "UPDATE messaging_message SET language = %s WHERE id > %s AND broadcast_id = %s "
            "AND EXISTS (SELECT 1 FROM contacts_contact c "
            "WHERE c.id = messaging_message.contact_id "
            "AND (LOWER(c.language) = %s OR LOWER(c.language) LIKE %s))",
            [code, after_id, broadcast.pk, code, f"{code}-%"],
        )
