"""Sending through Twilio's Messages API with the official `twilio` package: concurrent creates
over one pooled connection per account (a chunk's creates at once, and the next chunk's while
the last one's answers come in), answers in our words, and lookups for the reconciler.

The network calls run in a thread pool; the database is only touched from the calling thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from schoolsms.accounts.models import Sender
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.twilio.config import TwilioAccount, account_for, api_url
from schoolsms.carriers.twilio.config import status_callback_url as callback_url
from schoolsms.carriers.twilio.models import UnansweredCreate
from schoolsms.carriers.twilio.receipts import held_statuses_apply
from schoolsms.carriers.twilio.written import on_written, stamping_adapter
from schoolsms.messaging import codes
from schoolsms.messaging.gateway import (
    InboundMessage,
    LookupResult,
    OutboundMessage,
    SendOutcome,
    StatusUpdate,
)
from schoolsms.messaging.models import Message

logger = logging.getLogger(__name__)

# Seconds to connect, and to wait for an answer. Twilio answers a create in about 100-300 ms.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
# How far before the claim a message Twilio stamped may still be ours (clocks differ a little,
# and Twilio's dates are whole seconds).
CLOCK_MARGIN = dt.timedelta(seconds=60)
LIST_LIMIT = 50


def concurrency_for(mps: int) -> int:
    """Requests in flight at once, over one chunk or several: enough for half a second per
    request at the sender's limit (a short code's 100/s at Twilio's ~300 ms needs 30; one
    blocking connection at ~100 ms gives 10/s)."""
    return 32 if mps <= 0 else min(64, max(4, math.ceil(mps / 2)))


class _Connection:
    """One account's REST client: the package's HTTP client with a connection pool as large
    as the thread pool (its default is smaller, and only for https), no hidden retries (the
    pipeline decides), and the API base set to SCHOOLSMS_TWILIO_API_URL."""

    def __init__(self, account: TwilioAccount, size: int) -> None:
        http = TwilioHttpClient(pool_connections=True, timeout=READ_TIMEOUT)
        assert http.session is not None
        adapter = stamping_adapter(pool_connections=1, pool_maxsize=size, max_retries=0)
        http.session.mount("https://", adapter)
        http.session.mount("http://", adapter)
        self.client = Client(account.account_sid, account.auth_token, http_client=http)
        # The Api domain's base URL is what every Messages request is built on.
        self.client.api.base_url = api_url()
        self.messages = self.client.api.v2010.account.messages
        self.pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="twilio")
        self.size = size


_connections: dict[tuple[str, str, str, int], _Connection] = {}
_connections_lock = threading.Lock()


def _connection(account: TwilioAccount, size: int) -> _Connection:
    """Shared by every gateway object of the process, so connections are reused across send
    rounds."""
    key = (account.account_sid, account.auth_token, api_url(), size)
    with _connections_lock:
        found = _connections.get(key)
        if found is None:
            found = _connections[key] = _Connection(account, size)
        return found


@dataclass(frozen=True)
class _Answer:
    outcome: SendOutcome
    unanswered: bool = False  # the request may have reached Twilio: nobody knows


def _twilio_status(status: str | None) -> str:
    return str(getattr(status, "value", status) or "").lower()


def _accepted(message_id: int, resource: Any) -> SendOutcome:
    status = _twilio_status(resource.status)
    ours = twilio_wire.STATUSES.get(status, "sending")
    if ours == "failed":
        return SendOutcome(message_id, "refused", code=str(resource.error_code or ""))
    return SendOutcome(
        message_id,
        "accepted",
        carrier_id=resource.sid,
        status="sent" if ours in ("sent", "delivered") else "sending",
    )


def _refusal(message_id: int, exc: TwilioException) -> SendOutcome:
    status = int(getattr(exc, "status", 0) or 0)
    detail = str(getattr(exc, "msg", "") or getattr(exc, "detail", "") or "")[:200]
    if status == 429:
        return SendOutcome(message_id, "transient", code="http_429", detail=detail)
    if status >= 500:
        return SendOutcome(message_id, "transient", code="http_5xx", detail=detail)
    code = getattr(exc, "code", None)
    return SendOutcome(
        message_id, "refused", code=str(code if code else f"http_{status}"), detail=detail
    )


def _never_sent(exc: requests.RequestException) -> bool:
    """The request cannot have reached Twilio: the connection was never made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        return isinstance(getattr(exc.args[0], "reason", None), NewConnectionError)
    return False


class TwilioGateway:
    name = "twilio"
    code_family = codes.TWILIO

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.account = account_for(sender)
        self.concurrency = concurrency_for(sender.mps)
        self._conn = _connection(self.account, self.concurrency)

    # -- sending ------------------------------------------------------------------------------

    def _create_kwargs(self, to: str, body: str, *, callback: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self.account.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.account.messaging_service_sid
        else:
            kwargs["from_"] = self.account.from_number
        if callback:
            kwargs["status_callback"] = callback_url()
        return kwargs

    def _create(self, message: OutboundMessage) -> _Answer:
        """One create request (runs in a pool thread: no database here)."""
        mid = message.message_id
        try:
            resource = self._conn.messages.create(
                **self._create_kwargs(message.to, message.body, callback=True)
            )
        except TwilioException as exc:
            return _Answer(_refusal(mid, exc))
        except requests.RequestException as exc:
            if _never_sent(exc):
                return _Answer(SendOutcome(mid, "transient", code="connection"))
            logger.warning("Twilio create for message %s got no answer (%s)", mid, type(exc))
            return _Answer(SendOutcome(mid, "transient", code="timeout"), unanswered=True)
        return _Answer(_accepted(mid, resource))

    def _earlier(self, message: OutboundMessage, since: dt.datetime) -> _Answer | None:
        """A create that timed out before: did Twilio make that message? (pool thread)"""
        try:
            found = self._find(to=message.to, body=message.body, since=since)
        except (TwilioException, requests.RequestException):
            return _Answer(SendOutcome(message.message_id, "transient", code="timeout"))
        return None if found is None else _Answer(_accepted(message.message_id, found))

    def send_prepare(self, messages: Sequence[OutboundMessage]) -> _Creates:
        """The creates of `messages`, to be started at the sender's slot (see _Creates)."""
        return _Creates(self, messages)

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        creates = _Creates(self, messages)
        creates.start()
        return creates.outcomes()

    def send_reply(self, *, to: str, body: str) -> None:
        """A keyword reply outside the webhook's own answer (no status callback: it is not a
        broadcast row)."""
        self._conn.messages.create(**self._create_kwargs(to, body, callback=False))

    # -- webhooks -----------------------------------------------------------------------------

    def parse_status_callbacks(self, request: HttpRequest) -> list[StatusUpdate]:
        return twilio_wire.parse_status_form(request.POST)

    def parse_inbound(self, request: HttpRequest) -> list[InboundMessage]:
        return twilio_wire.parse_inbound_form(request.POST)

    # -- reconciliation -----------------------------------------------------------------------

    def _candidates(self, *, to: str, body: str, since: dt.datetime) -> list[Any]:
        """The account's messages to `to` with our text, created since `since`, oldest first:
        by the documented filter (To and DateSent>), else among the newest messages to the
        number (one still queued has no DateSent yet)."""
        since = since.astimezone(dt.UTC) - CLOCK_MARGIN
        text = body.strip()
        for query in ({"to": to, "date_sent_after": since}, {"to": to}):
            candidates = [
                m
                for m in self._conn.messages.list(limit=LIST_LIMIT, **query)
                if (m.date_created is None or m.date_created >= since)
                and str(m.direction or "").startswith("outbound")
                and (m.body or "").strip().startswith(text)
            ]
            if candidates:
                return sorted(candidates, key=lambda m: (m.date_created or since, m.sid))
        return []

    def _find(self, *, to: str, body: str, since: dt.datetime) -> Any | None:
        found = self._candidates(to=to, body=body, since=since)
        return found[0] if found else None

    def lookup(self, message: Message) -> LookupResult:
        """What Twilio has of a row left Sending: fetched by sid when we stored one; otherwise
        found among the account's messages to the number since the claim (or since an earlier
        unanswered create), by our text, unless another row already carries that sid."""
        if message.carrier_message_id:
            try:
                resource = self._conn.messages(message.carrier_message_id).fetch()
            except TwilioException as exc:
                if int(getattr(exc, "status", 0) or 0) == 404:
                    return LookupResult(found=False)
                raise
            return self._result(resource)
        earlier = (
            UnansweredCreate.objects.filter(message_ref=message.pk)
            .values_list("requested_at", flat=True)
            .first()
        )
        claims = [t for t in (message.claimed_at, earlier) if t is not None]
        since = min(claims) if claims else message.created_at
        candidates = self._candidates(
            to=message.phone or "", body=message.broadcast.text, since=since
        )
        taken = set(
            Message.objects.filter(carrier_message_id__in=[m.sid for m in candidates])
            .exclude(pk=message.pk)
            .values_list("carrier_message_id", flat=True)
        )
        found = next((m for m in candidates if m.sid not in taken), None)
        if found is None:
            return LookupResult(found=False)
        UnansweredCreate.objects.filter(message_ref=message.pk).delete()
        return self._result(found)

    @staticmethod
    def _result(resource: Any) -> LookupResult:
        status = twilio_wire.STATUSES.get(_twilio_status(resource.status))
        return LookupResult(
            found=True,
            carrier_id=resource.sid,
            status=status,
            code=str(resource.error_code or "") if status == "failed" else "",
        )


class _Creates:
    """One chunk's creates, all at once on the pool. Made before the slot: it applies the
    callbacks that overtook earlier answers and reads which messages had a create without an
    answer before; at start() only the requests go. A message whose earlier create may have
    reached Twilio is looked for first and sent again only if Twilio does not have it, and a
    create that gets no answer now is remembered for the next attempt."""

    def __init__(self, gateway: TwilioGateway, messages: Sequence[OutboundMessage]) -> None:
        held_statuses_apply()  # callbacks that overtook the previous chunks' answers
        self.gateway = gateway
        self.messages = list(messages)
        self.pending = dict(
            UnansweredCreate.objects.filter(
                message_ref__in=[m.message_id for m in messages]
            ).values_list("message_ref", "requested_at")
        )
        self.started = timezone.now()
        self.futures: list[Future[_Answer]] = []
        self._lock = threading.Lock()
        self._unwritten = len(self.messages)
        self._written_at = 0.0
        self._all_written = threading.Event()
        if not self.messages:
            self._all_written.set()

    def _written(self, at: float) -> None:
        with self._lock:
            self._written_at = max(self._written_at, at)
            self._unwritten -= 1
            if self._unwritten <= 0:
                self._all_written.set()

    def _call(self, message: OutboundMessage) -> _Answer:
        """In a pool thread: no database here."""
        written = False

        def mark(at: float) -> None:
            nonlocal written
            if not written:
                written = True
                self._written(at)

        try:
            if message.message_id in self.pending:
                earlier = self.gateway._earlier(message, self.pending[message.message_id])
                if earlier is not None:
                    return earlier
            on_written(mark)
            return self.gateway._create(message)
        finally:
            on_written(None)
            mark(time.time())  # no request written (found, refused before, failed to connect)

    def start(self) -> None:
        self.started = timezone.now()
        pool = self.gateway._conn.pool
        self.futures = [pool.submit(self._call, m) for m in self.messages]

    def written(self) -> float:
        if not self._all_written.wait(CONNECT_TIMEOUT + READ_TIMEOUT):
            return time.time()  # a thread that never ran: counted from now
        return self._written_at

    def done(self) -> bool:
        return all(f.done() for f in self.futures)

    def outcomes(self) -> list[SendOutcome]:
        answers = [f.result() for f in self.futures]
        pending, pairs = self.pending, list(zip(self.messages, answers, strict=True))
        unanswered = [
            UnansweredCreate(message_ref=m.message_id, to=m.to, requested_at=self.started)
            for m, a in pairs
            if a.unanswered and m.message_id not in pending
        ]
        settled = [
            m.message_id
            for m, a in pairs
            if not a.unanswered and m.message_id in pending and a.outcome.kind != "transient"
        ]
        if unanswered or settled:
            with transaction.atomic():
                UnansweredCreate.objects.bulk_create(unanswered, ignore_conflicts=True)
                UnansweredCreate.objects.filter(message_ref__in=settled).delete()
        return [a.outcome for a in answers]
