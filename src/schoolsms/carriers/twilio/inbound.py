"""Texts people send to a Twilio sender: read from the inbound webhook's form, handed to
messaging's one inbound handler, and answered as TwiML."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from twilio.twiml.messaging_response import MessagingResponse

from schoolsms.accounts.models import Sender
from schoolsms.carriers.twilio.config import NAME, TwilioAccount
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.inbound import inbound_receive
from schoolsms.phones import InvalidPhoneNumber, to_e164

logger = logging.getLogger(__name__)


def twiml(reply: str | None) -> str:
    """`<Response>` with at most one `<Message>`: empty when no reply is due."""
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)


def inbound_take(*, form: Mapping[str, str], account: TwilioAccount) -> str:
    """Act on one inbound text to `account`'s sender; returns the TwiML answer."""
    raw = form.get("From") or ""
    try:
        phone = to_e164(raw)
    except InvalidPhoneNumber:
        phone = ""
    if not phone or phone != raw.strip():
        # Twilio sends E.164; anything else (an alphanumeric id, a malformed number) cannot
        # be a consent record's number.
        logger.warning(
            "inbound text to %s from a number that is not E.164 (%r): no consent change",
            account.code,
            raw[:20],
        )
        return twiml(None)
    sender = Sender.objects.get(pk=account.sender_id)
    message = InboundMessage(
        sender_phone=phone,
        to=form.get("To") or "",
        body=form.get("Body") or "",
        carrier_id=form.get("MessageSid") or form.get("SmsSid") or "",
    )
    outcome = inbound_receive(sender=sender, inbound=message, channel=NAME)
    return twiml(None if outcome.duplicate else outcome.reply)
