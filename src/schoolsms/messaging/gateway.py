"""The gateway protocol every carrier implements, and the registry that finds a sender's gateway.

Carriers live above messaging (`carriers/<name>/`), so messaging never imports them: each
carrier registers a factory here by name (see `carriers/registry.py`), and `Sender.gateway`
picks one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

from django.http import HttpRequest

from schoolsms.accounts.models import Sender
from schoolsms.messaging.models import Message


# The values made once per message (what goes out, its answer, its receipts) are NamedTuples:
# as immutable as frozen dataclasses, and a third of the cost to make (a broadcast makes
# hundreds of thousands of them).
class OutboundMessage(NamedTuple):
    message_id: int  # our Message row; carriers may keep it to answer lookup()
    to: str
    sender: str
    body: str


class SendOutcome(NamedTuple):
    """One message's answer from a send request.

    accepted: the carrier took it (`carrier_id`); `status` is "sending" when it has only queued it
      (Twilio's `queued`) or "sent" when the answer already means the network accepted it (SMPP).
    refused: the carrier said no with `code` (in the gateway's code family).
    transient: nobody knows (timeout, 5xx); `code` names the kind (see codes.TRANSPORT).
    """

    message_id: int
    kind: Literal["accepted", "refused", "transient"]
    carrier_id: str = ""
    status: Literal["sending", "sent"] = "sending"
    code: str = ""
    detail: str = ""


# Carrier statuses in our words; gateways translate their own vocabulary into these.
CarrierStatus = Literal["sending", "sent", "delivered", "failed"]


class StatusUpdate(NamedTuple):
    carrier_id: str
    status: CarrierStatus
    code: str = ""  # for failed: the carrier's code, in the gateway's code family
    at: dt.datetime | None = None


@dataclass(frozen=True)
class InboundMessage:
    sender_phone: str  # who texted (E.164)
    to: str  # our short code or number
    body: str
    carrier_id: str = ""


@dataclass(frozen=True)
class LookupResult:
    """What the carrier knows of one of our messages.

    found None: this carrier cannot tell; False: it never received it; True: it has it.
    """

    found: bool | None
    carrier_id: str = ""
    status: CarrierStatus | None = None
    code: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Gateway(Protocol):
    name: str
    code_family: str  # which family of codes.CODES its codes belong to

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]: ...

    def parse_status_callbacks(self, request: HttpRequest) -> list[StatusUpdate]: ...

    def parse_inbound(self, request: HttpRequest) -> list[InboundMessage]: ...

    def lookup(self, message: Message) -> LookupResult: ...

    def send_reply(self, *, to: str, body: str) -> None:
        """A keyword reply (STOP, START, HELP): not a broadcast row."""
        ...

    # Optional: `concurrency`, how many messages may be out at the carrier at once (requests
    # in flight), over one chunk or several; a rate-limited sender's chunks grow to use it.
    # Absent: 1.
    # Optional: `send_prepare(messages) -> SendInFlight`, the same send in steps, so the next
    # chunk can go while this one's answers come in (see SendInFlight). Absent: send_batch.
    # Optional: `window_margin` (seconds): how long after a request is written the carrier may
    # stamp it; a throttled chunk counts that much past a second after it was written
    # (default throttle.WINDOW_MARGIN). Optional, for gateways without send_prepare:
    # `stamped_at` (epoch seconds), when the carrier stamped the last send_batch's requests.
    # Optional: `poll(*, until: float)` uses the time a throttled sender waits for its next
    # slot (epoch seconds) to read what the carrier has sent meanwhile (receipts), returning
    # by then. Gateways without it simply sleep.


class SendInFlight(Protocol):
    """One chunk's send in steps: made (database reads) before the sender's slot, `start()`
    at the slot (nothing but the requests, on other threads), `written()` (waits until every
    request has been written to the carrier, or failed to be; returns when the last was, epoch
    seconds), `done()` once every answer is in, `outcomes()` (waits for them; database
    writes, on the calling thread)."""

    def start(self) -> None: ...

    def written(self) -> float: ...

    def done(self) -> bool: ...

    def outcomes(self) -> list[SendOutcome]: ...


GatewayFactory = Callable[[Sender], Gateway]
_REGISTRY: dict[str, GatewayFactory] = {}


@dataclass(frozen=True)
class ConnectionKeeper:
    """Optional, for gateways that hold connections open (SMPP binds): the worker calls `keep`
    when it starts and now and then with every sender using the gateway, asks `busy` before
    it calls itself idle (something received is still being applied), and calls `close` when
    it stops. Gateways without one are called only to send."""

    keep: Callable[[Sequence[Sender]], None]
    close: Callable[[], None]
    busy: Callable[[], bool] = lambda: False


_KEEPERS: dict[str, ConnectionKeeper] = {}


def gateway_keeper_register(*, name: str, keeper: ConnectionKeeper) -> None:
    _KEEPERS[name] = keeper


def gateway_connections_keep() -> None:
    """Open (or keep, or drop) the connections of every gateway that holds them."""
    for name, keeper in _KEEPERS.items():
        keeper.keep(list(Sender.objects.filter(gateway=name)))


def gateway_connections_busy() -> bool:
    return any(keeper.busy() for keeper in _KEEPERS.values())


def gateway_connections_close() -> None:
    for keeper in _KEEPERS.values():
        keeper.close()


class UnknownGateway(LookupError):
    pass


def gateway_register(*, name: str, factory: GatewayFactory) -> None:
    _REGISTRY[name] = factory


def gateway_names() -> list[str]:
    return sorted(_REGISTRY)


def gateway_for(sender: Sender) -> Gateway:
    try:
        factory = _REGISTRY[sender.gateway]
    except KeyError:
        raise UnknownGateway(
            f"sender {sender.code} uses gateway {sender.gateway!r}, which is not one of "
            f"{', '.join(gateway_names()) or '(none registered)'}"
        ) from None
    return factory(sender)
