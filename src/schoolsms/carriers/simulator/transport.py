"""The simulated carrier's sending side (the Gateway): answers sends the way Twilio's Messages
API does and keeps what it accepted; its status callbacks follow from a task (see receipts)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from schoolsms.accounts.models import Sender
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.config import status_path
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.carriers.simulator.receipts import callbacks_deliver
from schoolsms.carriers.simulator.scenario import scenario_codes
from schoolsms.carriers.simulator.tasks import callbacks_task_ensure
from schoolsms.messaging import codes
from schoolsms.messaging.gateway import (
    InboundMessage,
    LookupResult,
    OutboundMessage,
    SendOutcome,
    StatusUpdate,
)
from schoolsms.messaging.models import Message

# Stop polling this long before the slot, so the send itself is not late.
POLL_MARGIN = 0.003

_SID_SEQUENCE = itertools.count()


def new_sids(count: int) -> list[str]:
    """`count` Twilio-shaped message sids ("SM" and 32 hex digits): the milliseconds, a counter
    and 64 random bits. Time-ordered, so the indexes on sids grow at one end, and the receipts,
    which come in sending order, find their rows next to each other (random sids made every
    insert and lookup land on a different index page). The random bits of a batch are read
    at once (a system call per sid was a tenth of the simulator's time)."""
    millis = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    head = f"SM{millis:012x}"
    noise = os.urandom(8 * count).hex()
    return [
        f"{head}{next(_SID_SEQUENCE) & 0xFFFF:04x}{noise[16 * i : 16 * i + 16]}"
        for i in range(count)
    ]


def new_sid() -> str:
    """One sid (see new_sids)."""
    return new_sids(1)[0]


class SimulatorGateway:
    name = "simulator"
    code_family = codes.TWILIO
    # The carrier is this process: it stamps a batch when send_batch runs, and says when.
    window_margin = 0.0
    stamped_at: float | None = None

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        # Seconds the last few poll rounds took.
        self._poll_costs: deque[float] = deque([0.005], maxlen=8)
        if sender.mps:
            # Load the URL configuration now, not in the first poll between two slots.
            status_path(sender.code)

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        """Twilio's answer per message: scenario codes Twilio reports at send are refused at
        once (HTTP 400); everything else is `queued`, and the callbacks follow from a task.

        The call takes SCHOOLSMS_SIMULATOR_LATENCY seconds, the round trip of one request (the
        Twilio gateway sends a batch's messages at once), before the carrier stamps them."""
        latency = settings.SCHOOLSMS_SIMULATOR_LATENCY
        if latency:
            time.sleep(latency)
        scenario = scenario_codes(settings.SCHOOLSMS_SIMULATOR_SCENARIO)
        now = timezone.now()
        self.stamped_at = now.timestamp()
        stamp = connection.ops.adapt_datetimefield_value(now)
        outcomes: list[SendOutcome] = []
        accepted: list[tuple[Any, ...]] = []
        sids = iter(new_sids(len(messages)))
        for message in messages:
            code = scenario.get(message.to, "") if scenario else ""
            if code and codes.twilio_arrival(code) is codes.Arrival.AT_SEND:
                outcomes.append(SendOutcome(message.message_id, "refused", code=code))
                continue
            sid = next(sids)
            accepted.append(
                (sid, message.message_id, message.sender, message.to, message.body, code, stamp)
            )
            outcomes.append(SendOutcome(message.message_id, "accepted", sid))
        if accepted:
            delay = settings.SCHOOLSMS_SIMULATOR_CALLBACK_DELAY
            due = now + dt.timedelta(seconds=delay) if delay else None
            quote = connection.ops.quote_name
            table = quote(SimulatedMessage._meta.db_table)
            with transaction.atomic(), connection.cursor() as cursor:
                # Plain rows, not model instances: this runs for every message sent.
                cursor.executemany(
                    f"INSERT INTO {table} (sid, message_ref, sender, {quote('to')}, body, status,"
                    " error_code, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, 'queued', %s, %s, %s)",
                    [(*row, stamp) for row in accepted],
                )
                callbacks_task_ensure(self.sender.code, due)
        return outcomes

    def poll(self, *, until: float) -> None:
        """While a throttled sender waits for its next slot, deliver due callbacks (as a real
        connection would read receipts meanwhile), a few at a time, until `until`. A round
        starts only if one as long as the slowest of the last few still ends in time: a poll
        that overran would make the send late, and a late send loses its slot for good."""
        costs = self._poll_costs
        while time.time() + max(costs) + POLL_MARGIN < until:
            started = time.time()
            done = callbacks_deliver(sender_code=self.sender.code, limit=8)
            costs.append(time.time() - started)
            if not done.get("posted"):
                return
        else:
            # Skipped for lack of time: forget the oldest cost, so one slow round cannot stop
            # polling for good (the receipts would pile up for the next task to deliver).
            costs.append(min(costs))

    def parse_status_callbacks(self, request: HttpRequest) -> list[StatusUpdate]:
        return twilio_wire.parse_status_form(request.POST)

    def parse_inbound(self, request: HttpRequest) -> list[InboundMessage]:
        return twilio_wire.parse_inbound_form(request.POST)

    def lookup(self, message: Message) -> LookupResult:
        """Like fetching the message from Twilio; without a sid, the simulator finds it by our
        message id among what it accepted since the row's claim."""
        if message.carrier_message_id:
            found = SimulatedMessage.objects.filter(sid=message.carrier_message_id)
        else:
            found = SimulatedMessage.objects.filter(message_ref=message.pk)
            if message.claimed_at:
                found = found.filter(created_at__gte=message.claimed_at)
        stored = found.order_by("-id").first()
        if stored is None:
            return LookupResult(found=False)
        status = twilio_wire.STATUSES.get(stored.status)
        return LookupResult(
            found=True,
            carrier_id=stored.sid,
            status=status,
            code=stored.error_code if status == "failed" else "",
        )

    def send_reply(self, *, to: str, body: str) -> None:
        now = timezone.now()
        SimulatedMessage.objects.create(
            sid=new_sid(),
            sender=self.sender.code,
            to=to,
            body=body,
            status="delivered",
            created_at=now,
            updated_at=now,
        )
