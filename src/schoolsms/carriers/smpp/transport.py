"""The SMPP gateway messaging sends through: texts go out over this process's bind for the
sender (see binds.py); receipts and inbound texts come back over the same bind, not HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest

from schoolsms.accounts.models import Sender
from schoolsms.messaging import codes
from schoolsms.messaging.gateway import (
    InboundMessage,
    LookupResult,
    OutboundMessage,
    SendOutcome,
    StatusUpdate,
)
from schoolsms.messaging.models import Message

from .binds import SenderBind, TextOutcome, bind_for
from .receipts import carrier_id


class ReplyNotTaken(RuntimeError):
    pass


class SmppGateway:
    name = "smpp"
    code_family = codes.SMPP

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self._bind: SenderBind | None = None

    @property
    def bind(self) -> SenderBind:
        if self._bind is None:
            self._bind = bind_for(self.sender)
        return self._bind

    @staticmethod
    def _send_outcome(sender_id: int, message_id: int, text: TextOutcome) -> SendOutcome:
        if text.smsc_id:
            # submit_sm_resp 0: the SMSC took it, which is what Sent means.
            return SendOutcome(
                message_id,
                "accepted",
                carrier_id=carrier_id(sender_id, text.smsc_id),
                status="sent",
            )
        if text.status:
            return SendOutcome(message_id, "refused", code=f"0x{text.status:02X}")
        return SendOutcome(message_id, "transient", code="connection", detail="no answer")

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        texts = self.bind.submit_texts([(m.to, m.body) for m in messages])
        sender_id, outcome = self.sender.pk, self._send_outcome
        return [outcome(sender_id, m.message_id, t) for m, t in zip(messages, texts, strict=True)]

    def parse_status_callbacks(self, request: HttpRequest) -> list[StatusUpdate]:
        return []  # receipts come over the bind

    def parse_inbound(self, request: HttpRequest) -> list[InboundMessage]:
        return []  # inbound texts come over the bind

    def lookup(self, message: Message) -> LookupResult:
        """A row still Sending without an SMSC id never had its submit_sm_resp: the SMSC did
        not take it (as SMPP gateways treat it), so it is sent again. With an id, the SMSC
        cannot be asked more than the receipt will tell."""
        if not message.carrier_message_id:
            return LookupResult(found=False)
        return LookupResult(found=None, carrier_id=message.carrier_message_id)

    def send_reply(self, *, to: str, body: str) -> None:
        [outcome] = self.bind.submit_texts([(to, body)], receipts=False)
        if not outcome.smsc_id:
            raise ReplyNotTaken(f"the SMSC did not take the reply (status {outcome.status})")
