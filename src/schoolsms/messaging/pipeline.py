"""Sending: claim rows with compare-and-set, re-check them, hand them to the gateway, record
the answers; retries with backoff; broadcast completion.

No database transaction is open while a gateway is called: a row is claimed (Not Sent Yet ->
Sending, committed) before the call and completed by another compare-and-set after it, which
names the claim it completes, so a row re-claimed by the reconciler is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentSource, ConsentStatus
from schoolsms.consent.services import consent_change
from schoolsms.messaging import codes
from schoolsms.messaging.capability import capability_check
from schoolsms.messaging.gateway import Gateway, OutboundMessage, SendOutcome, gateway_for
from schoolsms.messaging.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    DeliveryResult,
    Message,
    Reason,
)
from schoolsms.messaging.quiet_hours import quiet_until
from schoolsms.messaging.recheck import ineligible_now
from schoolsms.messaging.selectors import next_attempt_at, runnable_exists
from schoolsms.messaging.throttle import throttle_chunk, throttle_sent, throttle_wait

logger = logging.getLogger(__name__)

NOT_SENT = DeliveryResult.NOT_SENT_YET.value
SENDING = DeliveryResult.SENDING.value
SENT = DeliveryResult.SENT.value
INELIGIBLE = DeliveryResult.INELIGIBLE_TO_SEND.value
FAILED = DeliveryResult.FAILED_TO_SEND.value
# How long one send task runs before it yields to other tasks (receipts, other broadcasts).
SEND_SLICE_SECONDS = 2.0
THROTTLED_SLICE_SECONDS = 10.0
_CAPABILITY_REASONS = {Reason.CONTACT_ACCOUNT.value, Reason.NO_SMS_CAPABILITY.value}


@dataclass(frozen=True)
class Claimed:
    id: int
    phone: str
    attempts: int


@dataclass
class RoundReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    more_now: bool = False  # runnable rows are left (the time slice ended first)
    next_at: dt.datetime | None = None  # when the earliest waiting row becomes runnable


def _db(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _table() -> str:
    return connection.ops.quote_name(Message._meta.db_table)


def retry_delay(attempt: int) -> dt.timedelta:
    """Backoff after the attempt-th try: base, 2x base, 4x base, ..."""
    return dt.timedelta(seconds=settings.SCHOOLSMS_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0))


# -- claiming ---------------------------------------------------------------------------------


def rows_claim(
    *, broadcast_id: int, limit: int, now: dt.datetime, after_id: int = 0
) -> list[Claimed]:
    """Not Sent Yet -> Sending for up to `limit` runnable rows of a broadcast that is still
    going out (a canceled broadcast's rows are never claimed), with ids above `after_id`.
    Committed on return.

    A send round passes the last id it claimed: rows put back to wait (quiet hours, retries)
    stay in the index ahead of the rows still to try, and a round claiming from the start
    each time would pass them all again for every batch (a million-row broadcast held for
    the night would cost a billion row reads)."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    table = _table()
    # Results are written into the SQL (see _update_claimed). `reason = ''` always holds for
    # a Not Sent Yet row (a check constraint says so); naming it lets the (broadcast, result,
    # reason) index hand the rows over in id order, instead of every runnable row of the
    # broadcast being read and sorted for each claim.
    sql = (
        f"UPDATE {table} SET result = '{SENDING}', attempts = attempts + 1, claimed_at = %s, "
        "updated_at = %s "
        f"WHERE id IN (SELECT id FROM {table} WHERE broadcast_id = %s AND result = '{NOT_SENT}' "
        "AND reason = '' AND (next_attempt_at IS NULL OR next_attempt_at <= %s) AND id > %s "
        f"ORDER BY id LIMIT %s{skip_locked}) "
        f"AND result = '{NOT_SENT}' AND EXISTS (SELECT 1 FROM messaging_broadcast b "
        f"WHERE b.id = %s AND b.status = '{BroadcastStatus.SENDING.value}') "
        "RETURNING id, phone, attempts"
    )
    stamp = _db(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [stamp, stamp, broadcast_id, stamp, after_id, limit, broadcast_id])
        rows = cursor.fetchall()
    return sorted((Claimed(int(i), p, int(a)) for i, p, a in rows), key=lambda c: c.id)


def _update_claimed(sql_set: str, params: Sequence[Sequence[Any]]) -> None:
    """Complete claimed rows: `sql_set` assigns columns; each params row ends with
    (id, claimed_at) so only the claim we made is completed."""
    if not params:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        # `result` is written into the SQL, not bound (see callbacks._SIMPLE_SQL: SQLite would
        # re-plan every execution).
        cursor.executemany(
            f"UPDATE {_table()} SET {sql_set} "
            f"WHERE id = %s AND result = '{SENDING}' AND claimed_at = %s",
            params,
        )


# -- failures (send answers, callbacks, reconciliation) ---------------------------------------


@dataclass(frozen=True)
class FailureDecision:
    result: str
    reason: str
    carrier_code: str
    next_attempt_at: dt.datetime | None  # set: try again then (result is Not Sent Yet)
    opted_out: bool = False


def failure_decide(*, family: str, code: str, attempts: int, now: dt.datetime) -> FailureDecision:
    """What a carrier code does to a row that has been tried `attempts` times."""
    stored = codes.stored_code(family, code) if code else ""
    if code and codes.is_opt_out(family, code):
        return FailureDecision(INELIGIBLE, Reason.OPTED_OUT.value, stored, None, opted_out=True)
    outcome = codes.code_outcome(family, code) if code else codes.UNKNOWN
    if outcome.alert:
        logger.error("carrier code %s: our carrier account needs an administrator", stored)
    if attempts < codes.allowed_attempts(outcome, settings.SCHOOLSMS_RETRY_LIMIT):
        return FailureDecision(NOT_SENT, "", stored, now + retry_delay(attempts))
    return FailureDecision(outcome.result, outcome.reason, stored, None)


def opt_out_by_carrier(*, message_ids: Iterable[int], code: str) -> None:
    """Carrier code 21610: the number texted STOP to this sender; record it as consent."""
    rows = Message.objects.filter(pk__in=list(message_ids)).select_related("sender")
    for message in rows:
        if message.phone:
            consent_change(
                sender=message.sender,
                phone=message.phone,
                new_status=ConsentStatus.OPTED_OUT,
                source=ConsentSource.CARRIER,
                text=f"carrier code {code}",
                organization=Organization.objects.filter(pk=message.organization_id).first(),
            )


def after_failures(*, organization_id: int, failed: Iterable[tuple[str, str]]) -> None:
    """Follow-ups once rows failed permanently: (phone, reason) pairs."""
    phones = [phone for phone, reason in failed if phone and reason in _CAPABILITY_REASONS]
    if phones:
        capability_check(organization_id=organization_id, phones=phones)


# -- one round of sending for a broadcast -----------------------------------------------------


def _record_outcomes(
    *,
    gateway: Gateway,
    organization: Organization,
    claimed: dict[int, Claimed],
    outcomes: Sequence[SendOutcome],
    claimed_at: dt.datetime,
    report: RoundReport,
) -> None:
    now = timezone.now()
    stamp, claim = _db(now), _db(claimed_at)
    queued, sent, retry, final = [], [], [], []
    opted_out: list[int] = []
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
                opted_out.append(row.id)
            else:
                failed.append((row.phone, decision.reason))
    # A gateway that forgot a message: nobody knows if it went; the reconciler will ask.
    for row_id in set(claimed) - answered:
        logger.warning("gateway %s gave no answer for message %s", gateway.name, row_id)
    _update_claimed("carrier_message_id = %s, updated_at = %s", queued)
    _update_claimed(
        f"result = '{SENT}', carrier_message_id = %s, sent_at = %s, updated_at = %s", sent
    )
    _update_claimed(
        f"result = '{NOT_SENT}', next_attempt_at = %s, carrier_code = %s, claimed_at = NULL, "
        "updated_at = %s",
        retry,
    )
    _update_claimed("result = %s, reason = %s, carrier_code = %s, updated_at = %s", final)
    if opted_out:
        opt_out_by_carrier(message_ids=opted_out, code="21610")
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
    # One pass over the broadcast's ids per round; rows that come due meanwhile (a retry, the
    # end of quiet hours) go in the next round, which starts from the lowest id again.
    after_id = 0
    while True:
        claimed_at = fixed_now or timezone.now()
        rows = rows_claim(
            broadcast_id=broadcast_id, limit=claim_size, now=claimed_at, after_id=after_id
        )
        if not rows:
            break
        after_id = rows[-1].id
        report.claimed += len(rows)
        claim = _db(claimed_at)
        stamp = _db(timezone.now())
        ineligible = ineligible_now(
            organization=organization,
            phones=[r.phone for r in rows],
            invitation=broadcast.kind == BroadcastKind.INVITATION,
        )
        _update_claimed(
            f"result = '{INELIGIBLE}', reason = %s, updated_at = %s",
            [(ineligible[r.phone], stamp, r.id, claim) for r in rows if r.phone in ineligible],
        )
        rows = [r for r in rows if r.phone not in ineligible]
        if not broadcast.emergency and organization.has_quiet_hours:
            held = []
            for r in rows:
                opening = quiet_until(phone=r.phone, organization=organization, now=claimed_at)
                if opening is not None:
                    held.append((_db(opening), stamp, r.id, claim))
            # Held rows did not really get an attempt: give it back.
            _update_claimed(
                f"result = '{NOT_SENT}', attempts = attempts - 1, next_attempt_at = %s, "
                "claimed_at = NULL, updated_at = %s",
                held,
            )
            held_ids = {p[2] for p in held}
            rows = [r for r in rows if r.id not in held_ids]
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            outbound = [
                OutboundMessage(
                    message_id=r.id, to=r.phone, sender=sender.code, body=broadcast.text
                )
                for r in part
            ]
            # Nothing between the slot and the carrier call: that gap is jitter on the rate.
            throttle_wait(sender=sender, count=len(part), meanwhile=poll)
            try:
                outcomes = gateway.send_batch(outbound)
            except Exception:
                logger.exception("gateway %s failed a whole batch", gateway.name)
                outcomes = [
                    SendOutcome(message_id=r.id, kind="transient", code="connection") for r in part
                ]
            throttle_sent(sender=sender, count=len(part), next_count=chunk)
            _record_outcomes(
                gateway=gateway,
                organization=organization,
                claimed={r.id: r for r in part},
                outcomes=outcomes,
                claimed_at=claimed_at,
                report=report,
            )
        if time.monotonic() >= deadline:
            report.more_now = runnable_exists(broadcast_id=broadcast_id, now=fixed_now)
            break
    if not report.more_now:
        report.next_at = next_attempt_at(broadcast_id=broadcast_id)
    return report


def broadcast_complete_if_done(*, broadcast_id: int, now: dt.datetime | None = None) -> bool:
    """Sending -> Complete once no row is Not Sent Yet or Sending. Raw SQL: it runs after
    every receipt."""
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE broadcast_id = %s AND result IN (%s, %s) LIMIT 1",
            [broadcast_id, NOT_SENT, SENDING],
        )
        if cursor.fetchone() is not None:
            return False
        cursor.execute(
            "UPDATE messaging_broadcast SET status = %s, completed_at = %s "
            "WHERE id = %s AND status = %s AND dispatched_at IS NOT NULL",
            [
                BroadcastStatus.COMPLETE.value,
                _db(now or timezone.now()),
                broadcast_id,
                BroadcastStatus.SENDING.value,
            ],
        )
        return bool(cursor.rowcount == 1)
