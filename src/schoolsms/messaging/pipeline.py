"""Sending: claim rows with compare-and-set, re-check them, hand them to the gateway, record
the answers; retries with backoff; broadcast completion.

No database transaction is open while a gateway is called: a row is claimed (Not Sent Yet ->
Sending, committed) before the call and completed by another compare-and-set after it, which
names the claim it completes, so a row re-claimed by the reconciler is never overwritten.
Chunks overlap: the next goes at its slot while the carrier still answers the last ones (up to
the gateway's `concurrency` messages out), and each is recorded as its answers come in.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.messaging import codes, transitions
from schoolsms.messaging.codes import failure_decide
from schoolsms.messaging.failures import after_failures, opt_out_by_carrier
from schoolsms.messaging.gateway import Gateway, OutboundMessage, SendOutcome, gateway_for
from schoolsms.messaging.inflight import InFlight
from schoolsms.messaging.models import Broadcast, BroadcastKind, BroadcastStatus, Message
from schoolsms.messaging.quiet_hours import quiet_until
from schoolsms.messaging.recheck import ineligible_now
from schoolsms.messaging.selectors import next_attempt_at, runnable_exists
from schoolsms.messaging.throttle import WINDOW_MARGIN, SendPacer, throttle_chunk
from schoolsms.messaging.transitions import NOT_SENT, SENDING, Claimed

logger = logging.getLogger(__name__)

# How long one send task runs before it yields to other tasks (receipts, other broadcasts).
SEND_SLICE_SECONDS = 2.0
THROTTLED_SLICE_SECONDS = 10.0


@dataclass
class RoundReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    more_now: bool = False  # runnable rows are left (the time slice ended first)
    next_at: dt.datetime | None = None  # when the earliest waiting row becomes runnable


def _db(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# -- one round of sending for a broadcast -----------------------------------------------------


def _record_outcomes(
    outcomes: Sequence[SendOutcome],
    *,
    gateway: Gateway,
    organization: Organization,
    claimed: dict[int, Claimed],
    claimed_at: dt.datetime,
    report: RoundReport,
) -> None:
    now = timezone.now()
    stamp, claim = _db(now), _db(claimed_at)
    queued, sent, retry, final = [], [], [], []
    opted_out: list[tuple[int, str]] = []
    failed: list[tuple[str, str]] = []
    answered = set()
    for outcome in outcomes:
        row = claimed.get(outcome.message_id)
        if row is None:
            continue
        answered.add(row.id)
        report.outcomes[outcome.kind] += 1
        if outcome.kind == "accepted":
            if outcome.status == "sent":
                sent.append((outcome.carrier_id, stamp, stamp, row.id, claim))
            else:
                queued.append((outcome.carrier_id, stamp, row.id, claim))
            continue
        family = gateway.code_family if outcome.kind == "refused" else codes.TRANSPORT
        decision = failure_decide(family=family, code=outcome.code, attempts=row.attempts, now=now)
        if decision.next_attempt_at is not None:
            retry.append(
                (_db(decision.next_attempt_at), decision.carrier_code, stamp, row.id, claim)
            )
        else:
            final.append(
                (decision.result, decision.reason, decision.carrier_code, stamp, row.id, claim)
            )
            if decision.opted_out:
                opted_out.append((row.id, decision.carrier_code))
            else:
                failed.append((row.phone, decision.reason))
    # A gateway that forgot a message: nobody knows if it went; the reconciler will ask.
    for row_id in set(claimed) - answered:
        logger.warning("gateway %s gave no answer for message %s", gateway.name, row_id)
    transitions.claimed_accept(queued=queued, sent=sent)
    transitions.claimed_retry_later(retry)
    transitions.claimed_refuse(final)
    if opted_out:
        opt_out_by_carrier(refused=opted_out)
    after_failures(organization_id=organization.pk, failed=failed)


def send_round(
    *,
    broadcast_id: int,
    max_seconds: float | None = None,
    now: dt.datetime | None = None,
) -> RoundReport:
    """Send the broadcast's runnable rows for up to `max_seconds` (by default a time slice,
    after which the task yields to other work; longer for a throttled sender, whose waits
    are spent reading receipts anyway)."""
    report = RoundReport()
    broadcast = Broadcast.objects.select_related("organization__sender").get(pk=broadcast_id)
    organization = broadcast.organization
    sender = organization.sender
    gateway = gateway_for(sender)
    batch_size = settings.SCHOOLSMS_SEND_BATCH_SIZE
    # With a rate limit a fiftieth of a second's worth goes per slot, and a quarter second's
    # worth is claimed (and re-checked) at a time: a claimed row waits for its slot briefly,
    # never long enough to look like a dead worker's claim, and claiming per slot cost so
    # much time between slots that slots were missed.
    chunk = throttle_chunk(sender.mps, batch_size, getattr(gateway, "concurrency", 1))
    # (a whole number of chunks: a short chunk leaves too little time to claim the next rows).
    claim_size = (
        max(chunk, min(batch_size, sender.mps // 4) // chunk * chunk) if sender.mps else batch_size
    )
    if max_seconds is None:
        max_seconds = THROTTLED_SLICE_SECONDS if sender.mps else SEND_SLICE_SECONDS
    deadline = time.monotonic() + max_seconds
    gateway_poll = getattr(gateway, "poll", None)

    def poll(until: float) -> None:
        if gateway_poll is not None:
            gateway_poll(until=until)

    fixed_now = now
    # Each row's text by its language, looked up once per language, not once per row.
    texts: dict[str, str] = _TextsByLanguage(broadcast)
    # One pass over the broadcast's ids per round; rows that come due meanwhile (a retry, the
    # end of quiet hours) go in the next round, which starts from the lowest id again.
    after_id = 0
    out = InFlight(gateway)
    margin = getattr(gateway, "window_margin", WINDOW_MARGIN)
    with SendPacer(sender, meanwhile=poll, margin=margin) as pacer:
        try:
            while True:
                claimed_at = fixed_now or timezone.now()
                rows = transitions.rows_claim(
                    broadcast_id=broadcast_id, limit=claim_size, now=claimed_at, after_id=after_id
                )
                if not rows:
                    break
                after_id = rows[-1].id
                report.claimed += len(rows)
                rows = _recheck(broadcast=broadcast, rows=rows, claimed_at=claimed_at)
                for start in range(0, len(rows), chunk):
                    part = rows[start : start + chunk]
                    outbound = [
                        OutboundMessage(r.id, r.phone, sender.code, texts[r.language]) for r in part
                    ]
                    out.make_room(len(part))
                    sending = out.prepare(outbound)
                    # Nothing between the slot and the requests: that gap is jitter on the
                    # rate. The last chunks' answers may still be coming in; this one's
                    # count until a second after its requests were written.
                    pacer.wait(len(part))
                    written = out.start(
                        sending,
                        outbound,
                        partial(
                            _record_outcomes,
                            gateway=gateway,
                            organization=organization,
                            claimed={r.id: r for r in part},
                            claimed_at=claimed_at,
                            report=report,
                        ),
                    )
                    # The next chunk's slot is reserved now, unless this round is over.
                    last = start + chunk >= len(rows) and time.monotonic() >= deadline
                    pacer.sent(written, next_count=0 if last else chunk)
                    out.settle_done()
                if time.monotonic() >= deadline:
                    out.settle_all()
                    report.more_now = runnable_exists(broadcast_id=broadcast_id, now=fixed_now)
                    break
        finally:
            out.settle_all()
    if not report.more_now:
        report.next_at = next_attempt_at(broadcast_id=broadcast_id)
    return report


class _TextsByLanguage(dict[str, str]):
    """language -> the broadcast's text for it, filled in as languages come up."""

    def __init__(self, broadcast: Broadcast) -> None:
        super().__init__()
        self.broadcast = broadcast

    def __missing__(self, language: str) -> str:
        text = self[language] = self.broadcast.text_for(language)
        return text


def _recheck(
    *, broadcast: Broadcast, rows: list[Claimed], claimed_at: dt.datetime
) -> list[Claimed]:
    """Claimed rows that may go now: the others become Ineligible (a STOP, a block or a lost
    opt-in since dispatch) or wait for quiet hours to end."""
    organization = broadcast.organization
    claim = _db(claimed_at)
    stamp = _db(timezone.now())
    ineligible = ineligible_now(
        organization=organization,
        phones=[r.phone for r in rows],
        invitation=broadcast.kind == BroadcastKind.INVITATION,
    )
    transitions.claimed_mark_ineligible(
        [(ineligible[r.phone], stamp, r.id, claim) for r in rows if r.phone in ineligible]
    )
    rows = [r for r in rows if r.phone not in ineligible]
    if not broadcast.emergency and organization.has_quiet_hours:
        held = []
        for r in rows:
            opening = quiet_until(phone=r.phone, organization=organization, now=claimed_at)
            if opening is not None:
                held.append((_db(opening), stamp, r.id, claim))
        # Held rows did not really get an attempt: claimed_hold gives it back.
        transitions.claimed_hold(held)
        held_ids = {p[2] for p in held}
        rows = [r for r in rows if r.id not in held_ids]
    return rows


def broadcast_complete_if_done(*, broadcast_id: int, now: dt.datetime | None = None) -> bool:
    """Sending -> Complete once every row is written (fan-out done) and none is Not Sent Yet
    or Sending. Raw SQL: it runs after every receipt."""
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE broadcast_id = %s AND result IN (%s, %s) LIMIT 1",
            [broadcast_id, NOT_SENT, SENDING],
        )
        if cursor.fetchone() is not None:
            return False
        cursor.execute(
            "UPDATE messaging_broadcast SET status = %s, completed_at = %s "
            "WHERE id = %s AND status = %s AND fanned_out_at IS NOT NULL",
            [
                BroadcastStatus.COMPLETE.value,
                _db(now or timezone.now()),
                broadcast_id,
                BroadcastStatus.SENDING.value,
            ],
        )
        return bool(cursor.rowcount == 1)
