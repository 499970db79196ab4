"""What carriers tell us after a send, for their webhooks: delivery receipts (applied by
messaging.receipts, then follow-ups scheduled) and inbound texts (messaging.inbound decides, the
gateway sends the reply)."""

from __future__ import annotations

from schoolsms.accounts.models import Sender
from schoolsms.messaging.gateway import Gateway, InboundMessage
from schoolsms.messaging.inbound import inbound_receive
from schoolsms.messaging.receipts import CallbackReport, status_updates_apply
from schoolsms.messaging.tasks import broadcast_follow_up

__all__ = [
    "CallbackReport",
    "inbound_handle",
    "status_callbacks_finish",
    "status_updates_apply",
]


def status_callbacks_finish(report: CallbackReport) -> None:
    """Schedule retries and complete broadcasts whose last row just settled."""
    broadcast_follow_up(broadcast_ids=report.broadcasts, retries=report.retries)


def inbound_handle(*, gateway: Gateway, sender: Sender, inbound: InboundMessage) -> str | None:
    """Act on a text sent to our sender (messaging.inbound decides) and send the reply through
    the gateway's API. Returns the reply sent, if any."""
    outcome = inbound_receive(sender=sender, inbound=inbound, channel=gateway.name)
    if outcome.reply is not None and not outcome.duplicate:
        gateway.send_reply(to=inbound.sender_phone, body=outcome.reply)
    return outcome.reply
