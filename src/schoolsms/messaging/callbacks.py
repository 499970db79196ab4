"""What carriers tell us after a send, for their webhooks: delivery receipts (applied by
messaging.receipts, then follow-ups scheduled) and inbound texts (keywords change consent and get
their reply)."""

from __future__ import annotations

import logging

from schoolsms.accounts.models import Organization, Sender
from schoolsms.consent.keywords import keyword_classify, reply_for
from schoolsms.consent.models import ConsentSource, ConsentStatus
from schoolsms.consent.services import consent_change
from schoolsms.messaging.gateway import Gateway, InboundMessage
from schoolsms.messaging.receipts import CallbackReport, status_updates_apply
from schoolsms.messaging.tasks import broadcast_follow_up

__all__ = [
    "CallbackReport",
    "inbound_handle",
    "status_callbacks_finish",
    "status_updates_apply",
]

logger = logging.getLogger(__name__)


def status_callbacks_finish(report: CallbackReport) -> None:
    """Schedule retries and complete broadcasts whose last row just settled."""
    broadcast_follow_up(broadcast_ids=report.broadcasts, retries=report.retries)


def _organization_for(sender: Sender) -> Organization | None:
    orgs = list(Organization.objects.filter(sender=sender)[:2])
    return orgs[0] if len(orgs) == 1 else None


def inbound_handle(*, gateway: Gateway, sender: Sender, inbound: InboundMessage) -> str | None:
    """Act on a text sent to our sender. Returns the reply sent, if any.

    Keywords change consent at once (FCC: honour revocation promptly) and get the reply CTIA
    requires; HELP is answered even for numbers that never subscribed."""
    keyword = keyword_classify(inbound.body)
    if keyword is None:
        logger.info("inbound text from %s is not a keyword", inbound.sender_phone[-4:])
        return None
    if keyword in ("opt_out", "opt_in"):
        consent_change(
            sender=sender,
            phone=inbound.sender_phone,
            new_status=ConsentStatus.OPTED_OUT if keyword == "opt_out" else ConsentStatus.OPTED_IN,
            source=ConsentSource.KEYWORD,
            text=inbound.body,
            organization=_organization_for(sender),
        )
    reply = reply_for(keyword, sender)
    gateway.send_reply(to=inbound.sender_phone, body=reply)
    return reply
