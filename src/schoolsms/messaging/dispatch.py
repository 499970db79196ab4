"""Fan-out: a broadcast's audience becomes message rows in one INSERT ... SELECT, with
eligibility decided in SQL (messaging.eligibility)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from schoolsms.messaging.eligibility import audience_checked
from schoolsms.messaging.invitations import invitation_fan_out, language_q
from schoolsms.messaging.models import Broadcast, BroadcastKind, BroadcastStatus
from schoolsms.messaging.selectors import audience_contacts
from schoolsms.messaging.transitions import fan_out_sql

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
        checked, params = audience_checked(organization=org, contacts=contacts)
        stamp = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor, _roomy_page_cache(cursor):
            cursor.execute(
                fan_out_sql(checked), [broadcast.pk, org.pk, org.sender_id, stamp, stamp, *params]
            )
            return int(cursor.rowcount)
