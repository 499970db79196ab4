"""Twilio status callbacks: applied to the signing sender's messages only, forward-only through
messaging's receipts, and kept (not dropped) when they overtake the create's stored answer."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping

from django.db import connection, transaction
from django.utils import timezone

from schoolsms.carriers import twilio_wire
from schoolsms.carriers.twilio.config import TwilioAccount, twilio_accounts
from schoolsms.carriers.twilio.models import HeldStatus
from schoolsms.messaging import codes
from schoolsms.messaging.callbacks import status_callbacks_finish, status_updates_apply
from schoolsms.messaging.gateway import StatusUpdate
from schoolsms.messaging.models import Message

logger = logging.getLogger(__name__)

# A held callback whose sid no row of its account has come to carry in this long is not for
# one of our messages (the reconciler adopts a dead worker's message within minutes).
HOLD_FOR = dt.timedelta(days=1)


def _owners(sids: Iterable[str]) -> dict[str, int]:
    """sid -> the sender of the message row carrying it."""
    found: dict[str, int] = {}
    sids = list(sids)
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(sids), 500):
            part = sids[start : start + 500]
            cursor.execute(
                f"SELECT carrier_message_id, sender_id FROM {table} "
                f"WHERE carrier_message_id IN ({', '.join(['%s'] * len(part))})",
                part,
            )
            found.update((sid, int(sender)) for sid, sender in cursor.fetchall())
    return found


def _apply(updates: list[StatusUpdate]) -> int:
    if not updates:
        return 0
    report = status_updates_apply(family=codes.TWILIO, updates=updates)
    status_callbacks_finish(report)
    return report.applied


def status_callback_take(*, form: Mapping[str, str], signers: list[TwilioAccount]) -> str:
    """Act on one status callback whose signature `signers` (senders of one account) vouch
    for. Returns what became of it: applied, ignored, held (the caller makes sure a task will
    apply it) or not_ours."""
    updates = twilio_wire.parse_status_form(form)
    if not updates:
        return "ignored"  # a status that says nothing about delivery (read, receiving, ...)
    sid = updates[0].carrier_id
    owner = _owners([sid]).get(sid)
    if owner is None:
        _hold(updates, account_sid=signers[0].account_sid)
        return "held"
    if owner not in {a.sender_id for a in signers}:
        logger.warning("status callback for %s signed by another account: ignored", sid)
        return "not_ours"
    return "applied" if _apply(updates) else "ignored"


def _hold(updates: list[StatusUpdate], *, account_sid: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        HeldStatus.objects.bulk_create(
            HeldStatus(
                sid=u.carrier_id,
                account_sid=account_sid,
                status=u.status,
                error_code=u.code,
                at=u.at,
                received_at=now,
            )
            for u in updates
        )


def held_statuses_apply(*, now: dt.datetime | None = None, limit: int = 2000) -> int:
    """Apply held callbacks whose sid a row of their account's senders now carries, in the
    order they came; forget those older than HOLD_FOR. Returns how many are still held."""
    if not HeldStatus.objects.exists():
        return 0
    now = now or timezone.now()
    held = list(HeldStatus.objects.order_by("id")[:limit])
    owners = _owners({h.sid for h in held})
    account_of = {a.sender_id: a.account_sid for a in twilio_accounts()}
    done: list[int] = []
    updates: list[StatusUpdate] = []
    for h in held:
        owner = owners.get(h.sid)
        if owner is None:
            if now - h.received_at > HOLD_FOR:
                logger.warning("held status callback for %s matched no message; dropped", h.sid)
                done.append(h.pk)
            continue
        done.append(h.pk)
        if account_of.get(owner) != h.account_sid:
            logger.warning("held status callback for %s signed by another account", h.sid)
            continue
        updates.append(StatusUpdate(h.sid, h.status, h.error_code, h.at))  # type: ignore[arg-type]
    with transaction.atomic():
        _apply(updates)
        HeldStatus.objects.filter(pk__in=done).delete()
    return HeldStatus.objects.count()
