"""Rows left in Sending too long (a dead worker, a lost receipt): ask the carrier what it has."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from schoolsms.messaging.callbacks import CallbackReport, status_updates_apply
from schoolsms.messaging.gateway import Gateway, StatusUpdate, gateway_for
from schoolsms.messaging.models import Message, Reason
from schoolsms.messaging.pipeline import FAILED, NOT_SENT, SENDING, SENT

logger = logging.getLogger(__name__)


def stuck_reconcile(*, now: dt.datetime | None = None, limit: int = 500) -> CallbackReport:
    """Settle rows claimed longer than SCHOOLSMS_SEND_LEASE seconds ago.

    The carrier has it: take its status (still in flight: look again after another lease).
    It never got it: back to Not Sent Yet, to be sent. It cannot say: a row it gave an id
    for counts as Sent; one it never answered for fails as carrier_error rather than risk
    a second copy."""
    now = now or timezone.now()
    report = CallbackReport()
    cutoff = now - dt.timedelta(seconds=settings.SCHOOLSMS_SEND_LEASE)
    stuck = list(
        Message.objects.filter(result=SENDING, claimed_at__lt=cutoff)
        .select_related("sender")
        .order_by("claimed_at")[:limit]
    )
    gateways: dict[int, Gateway] = {}
    for message in stuck:
        # Take the row over first, so two reconcilers (or a late original worker) never
        # both complete it.
        if not Message.objects.filter(
            pk=message.pk, result=SENDING, claimed_at=message.claimed_at
        ).update(claimed_at=now):
            continue
        mine = Message.objects.filter(pk=message.pk, result=SENDING, claimed_at=now)
        if message.sender_id not in gateways:
            gateways[message.sender_id] = gateway_for(message.sender)
        gateway = gateways[message.sender_id]
        try:
            found = gateway.lookup(message)
        except Exception:
            logger.exception("lookup of message %s failed; will ask again", message.pk)
            continue
        report.broadcasts.add(message.broadcast_id)
        if found.found is True:
            carrier_id = message.carrier_message_id or found.carrier_id
            if not message.carrier_message_id:
                mine.update(carrier_message_id=carrier_id, updated_at=now)
            if found.status in ("sent", "delivered", "failed"):
                applied = status_updates_apply(
                    family=gateway.code_family,
                    updates=[StatusUpdate(carrier_id, found.status, found.code, now)],
                )
                report.retries.update(applied.retries)
                report.applied += applied.applied
        elif found.found is False:
            mine.update(
                result=NOT_SENT,
                attempts=max(message.attempts - 1, 0),
                carrier_message_id=None,
                claimed_at=None,
                next_attempt_at=None,
                updated_at=now,
            )
            report.retries.setdefault(message.broadcast_id, now)
            report.applied += 1
        elif message.carrier_message_id:
            mine.update(result=SENT, sent_at=now, updated_at=now)
            report.applied += 1
        else:
            mine.update(result=FAILED, reason=Reason.CARRIER_ERROR, updated_at=now)
            report.applied += 1
    return report
