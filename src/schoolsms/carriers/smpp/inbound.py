"""Texts sent to our sender over the bind (MO deliver_sm): decoded, long ones put back
together, and handed to messaging's one inbound handler, which decides the reply."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from schoolsms.accounts.models import Sender
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.inbound import inbound_receive
from schoolsms.phones import InvalidPhoneNumber, to_e164

from .pdus import address, decode, strip_udh

logger = logging.getLogger(__name__)
# Parts of a long inbound text wait this long for the rest.
PARTS_KEPT_SECONDS = 600.0


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value or "")


def phone_of(pdu: Any) -> str:
    """The texter's number in E.164: international as given, anything else read as national."""
    digits = _text(pdu.source_addr)
    if pdu.source_addr_ton == 1 and digits.isdigit():
        return "+" + digits
    try:
        return to_e164(digits)
    except InvalidPhoneNumber:
        return "+" + digits if digits.isdigit() else digits


@dataclass
class Reassembly:
    """Parts of long inbound texts, by (number, reference), until every part has come."""

    parts: dict[tuple[str, int], dict[int, str]] = field(default_factory=dict)
    seen: dict[tuple[str, int], float] = field(default_factory=dict)

    def add(self, phone: str, concat: tuple[int, int, int], text: str) -> str | None:
        reference, total, number = concat
        key = (phone, reference)
        now = time.monotonic()
        for old in [k for k, at in self.seen.items() if now - at > PARTS_KEPT_SECONDS]:
            self.parts.pop(old, None)
            self.seen.pop(old, None)
        got = self.parts.setdefault(key, {})
        got[number] = text
        self.seen[key] = now
        if len(got) < total:
            return None
        del self.parts[key], self.seen[key]
        return "".join(got[n] for n in sorted(got))


def inbound_parse(pdu: Any, reassembly: Reassembly) -> InboundMessage | None:
    """The whole text once its last part is here (None until then)."""
    data, concat = strip_udh(pdu.short_message or pdu.message_payload or b"", pdu.esm_class or 0)
    body = decode(data, pdu.data_coding or 0)
    phone = phone_of(pdu)
    if concat is not None:
        whole = reassembly.add(phone, concat, body)
        if whole is None:
            return None
        body = whole
    _ton, _npi, to = address(_text(pdu.destination_addr))
    return InboundMessage(sender_phone=phone, to=to, body=body)


def inbound_reply(*, sender: Sender, inbound: InboundMessage) -> str | None:
    """Act on the text (keywords change consent at once); the reply to submit, if any."""
    outcome = inbound_receive(sender=sender, inbound=inbound, channel="smpp")
    if outcome.duplicate:
        return None
    return outcome.reply
