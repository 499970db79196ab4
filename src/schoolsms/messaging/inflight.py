"""The chunks a send round has out at the carrier: several at once, up to the gateway's
`concurrency` messages, so a slow carrier's answers do not hold the next chunk back."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from schoolsms.messaging.gateway import Gateway, OutboundMessage, SendInFlight, SendOutcome

logger = logging.getLogger(__name__)


class _Blocking:
    """A gateway without send_prepare: the whole send happens at start()."""

    def __init__(self, gateway: Gateway, send: Callable[[], list[SendOutcome]]) -> None:
        self._gateway = gateway
        self._send = send
        self._outcomes: list[SendOutcome] = []
        self._written = 0.0

    def start(self) -> None:
        self._outcomes = self._send()
        # The carrier may stamp them as late as its answer, unless the gateway knows when.
        self._written = getattr(self._gateway, "stamped_at", None) or time.time()

    def written(self) -> float:
        return self._written

    def done(self) -> bool:
        return True

    def outcomes(self) -> list[SendOutcome]:
        return self._outcomes


def _unknown(messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
    """A send that raised: nobody knows what reached the carrier (retried per the code table,
    after the carrier is asked)."""
    return [
        SendOutcome(message_id=m.message_id, kind="transient", code="connection") for m in messages
    ]


@dataclass
class _Out:
    sending: SendInFlight
    messages: Sequence[OutboundMessage]
    on_answer: Callable[[list[SendOutcome]], None]


class InFlight:
    """Chunks started and not yet answered for, oldest first. Every chunk started is settled
    (its outcomes handed to `on_answer`) by settle_done, make_room or settle_all."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.limit = max(1, int(getattr(gateway, "concurrency", 1)))
        self._out: deque[_Out] = deque()

    def prepare(self, messages: Sequence[OutboundMessage]) -> SendInFlight:
        prepare = getattr(self.gateway, "send_prepare", None)
        if prepare is None:
            return _Blocking(self.gateway, lambda: self.gateway.send_batch(messages))
        sending: SendInFlight = prepare(messages)
        return sending

    def make_room(self, count: int) -> None:
        """Wait for the oldest chunks' answers until `count` more fit under the limit (a
        chunk larger than the limit goes alone)."""
        while self._out and sum(len(o.messages) for o in self._out) + count > self.limit:
            self._settle(self._out.popleft())

    def start(
        self,
        sending: SendInFlight,
        messages: Sequence[OutboundMessage],
        on_answer: Callable[[list[SendOutcome]], None],
    ) -> float:
        """Start the chunk's requests; returns once they are written to the carrier (or the
        send failed), with when the last was (epoch seconds)."""
        try:
            sending.start()
            written = sending.written()
        except Exception:
            logger.exception("gateway %s failed a whole batch", self.gateway.name)
            on_answer(_unknown(messages))
            return time.time()
        self._out.append(_Out(sending, messages, on_answer))
        return written

    def settle_done(self) -> None:
        """Record the chunks whose answers are all in, without waiting for the others."""
        for out in [o for o in self._out if o.sending.done()]:
            self._out.remove(out)
            self._settle(out)

    def settle_all(self) -> None:
        while self._out:
            self._settle(self._out.popleft())

    def _settle(self, out: _Out) -> None:
        try:
            outcomes = out.sending.outcomes()
        except Exception:
            logger.exception("gateway %s failed a whole batch", self.gateway.name)
            outcomes = _unknown(out.messages)
        out.on_answer(outcomes)
