"""The one handler for texts sent to our senders, whatever carrier brought them: keywords
change consent at once and get the reply CTIA asks for. Carriers deliver the reply their own
way (TwiML, a submit_sm, the API); this module only decides it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from schoolsms.accounts.models import Organization, Sender
from schoolsms.consent.keywords import keyword_classify, reply_for
from schoolsms.consent.models import ConsentSource, ConsentStatus
from schoolsms.consent.services import consent_change
from schoolsms.messaging.gateway import InboundMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundOutcome:
    reply: str | None  # the text to send back to the number, if any
    duplicate: bool = False  # this carrier message was handled before: nothing applied again


def _organization_for(sender: Sender) -> Organization | None:
    orgs = list(Organization.objects.filter(sender=sender)[:2])
    return orgs[0] if len(orgs) == 1 else None


def inbound_receive(*, sender: Sender, inbound: InboundMessage, channel: str) -> InboundOutcome:
    """Act on one text sent to `sender`; `channel` names the carrier it came through.

    FCC: revocation is honoured at once; CTIA: HELP is answered even for numbers that never
    subscribed."""
    keyword = keyword_classify(inbound.body)
    if keyword is None:
        logger.info("inbound text via %s is not a keyword", channel)
        return InboundOutcome(reply=None)
    if keyword in ("opt_out", "opt_in"):
        consent_change(
            sender=sender,
            phone=inbound.sender_phone,
            new_status=ConsentStatus.OPTED_OUT if keyword == "opt_out" else ConsentStatus.OPTED_IN,
            source=ConsentSource.KEYWORD,
            text=inbound.body,
            organization=_organization_for(sender),
        )
    return InboundOutcome(reply=reply_for(keyword, sender))
