"""The one handler for texts sent to our senders, whatever carrier brought them: keywords
change consent at once and get the reply CTIA asks for. Carriers deliver the reply their own
way (TwiML, a submit_sm, the API); this module only decides it.

CTIA: one confirmation per change and none when nothing changed (a second STOP gets no text);
HELP is answered even for numbers that never subscribed. FCC: a text that plainly asks to stop
revokes consent at once, like STOP. Every text handled is kept (messaging.models.InboundText)
with its carrier message id, so a replayed one changes nothing and gets no second reply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization, Sender
from schoolsms.consent.keywords import inbound_classify
from schoolsms.consent.models import ConsentSource, ConsentStatus
from schoolsms.consent.services import consent_change
from schoolsms.contacts.models import PhoneNumber
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.models import InboundKind, InboundText, ReplyKind
from schoolsms.messaging.replies import DEFAULT_LANGUAGE, language_of, reply_text

logger = logging.getLogger(__name__)

_NEW_STATUS = {"opt_out": ConsentStatus.OPTED_OUT, "opt_in": ConsentStatus.OPTED_IN}


@dataclass(frozen=True)
class InboundOutcome:
    reply: str | None  # the text to send back to the number, if any
    duplicate: bool = False  # this carrier message was handled before: nothing applied again


def inbound_audience(*, sender: Sender, phone: str) -> tuple[Organization | None, str]:
    """Whose number it is and in which language to answer: the first of the sender's
    organizations with a contact at that number, in that contact's language; else the sender's
    only organization (or none, when several share it) in English."""
    contact = (
        PhoneNumber.objects.filter(phone=phone, contact__organization__sender=sender)
        .order_by("contact_id")
        .values_list("contact__organization_id", "contact__language")
        .first()
    )
    if contact is not None:
        return Organization.objects.get(pk=contact[0]), language_of(contact[1])
    orgs = list(Organization.objects.filter(sender=sender).order_by("id")[:2])
    return (orgs[0] if len(orgs) == 1 else None), DEFAULT_LANGUAGE


def _already_handled(sender: Sender, inbound: InboundMessage) -> bool:
    return bool(inbound.carrier_id) and (
        InboundText.objects.filter(
            sender=sender, phone=inbound.sender_phone, carrier_message_id=inbound.carrier_id
        ).exists()
    )


def inbound_receive(*, sender: Sender, inbound: InboundMessage, channel: str) -> InboundOutcome:
    """Act on one text sent to `sender`; `channel` names the carrier it came through."""
    if _already_handled(sender, inbound):
        logger.info("inbound %s via %s handled before: ignored", inbound.carrier_id, channel)
        return InboundOutcome(reply=None, duplicate=True)
    kind = inbound_classify(inbound.body)
    organization, language = inbound_audience(sender=sender, phone=inbound.sender_phone)
    now = timezone.now()
    try:
        with transaction.atomic():
            event = None
            if kind in _NEW_STATUS:
                event = consent_change(
                    sender=sender,
                    phone=inbound.sender_phone,
                    new_status=_NEW_STATUS[kind],
                    source=ConsentSource.KEYWORD,
                    text=inbound.body,
                    organization=organization,
                    at=now,
                )
            reply = None
            if kind == "help" or (kind in _NEW_STATUS and event is not None):
                reply = reply_text(
                    sender=sender,
                    organization=organization,
                    language=language,
                    kind=ReplyKind(kind),
                )
            # Written last, in the same transaction: a concurrent copy of this text waits for
            # it, then fails on the unique id and leaves nothing of its own behind.
            InboundText.objects.create(
                sender=sender,
                phone=inbound.sender_phone,
                carrier_message_id=inbound.carrier_id,
                channel=channel,
                body=inbound.body,
                received_at=now,
                kind=kind or InboundKind.OTHER,
                organization=organization,
                consent_event=event,
                reply=reply or "",
            )
    except IntegrityError:
        if not _already_handled(sender, inbound):
            raise
        return InboundOutcome(reply=None, duplicate=True)
    logger.info("inbound text via %s: %s", channel, kind or "not a keyword")
    return InboundOutcome(reply=reply)
