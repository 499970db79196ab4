"""Rows left in Sending too long (a dead worker, a lost receipt): ask the carrier what it has."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from schoolsms.messaging import transitions
from schoolsms.messaging.gateway import Gateway, StatusUpdate, gateway_for
from schoolsms.messaging.models import Message, Reason
from schoolsms.messaging.receipts import CallbackReport, status_updates_apply
from schoolsms.messaging.transitions import SENDING

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
        assert message.claimed_at is not None
        if not transitions.reconcile_take_over(
            row_id=message.pk, claimed_at=message.claimed_at, now=now
        ):
            continue
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
                transitions.reconcile_record_carrier_id(
                    row_id=message.pk, carrier_id=carrier_id, now=now
                )
            if found.status in ("sent", "delivered", "failed"):
                applied = status_updates_apply(
                    family=gateway.code_family,
                    updates=[StatusUpdate(carrier_id, found.status, found.code, now)],
                )
                report.retries.update(applied.retries)
                report.applied += applied.applied
        elif found.found is False:
            transitions.reconcile_not_received(
                row_id=message.pk, attempts=message.attempts, now=now
            )
            report.retries.setdefault(message.broadcast_id, now)
            report.applied += 1
        elif message.carrier_message_id:
            transitions.reconcile_assume_sent(row_id=message.pk, now=now)
            report.applied += 1
        else:
            transitions.reconcile_give_up(row_id=message.pk, reason=Reason.CARRIER_ERROR, now=now)
            report.applied += 1
    return report
