"""Delivery receipts from any carrier, applied forward-only through the transitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from schoolsms.messaging import transitions
from schoolsms.messaging.codes import failure_decide
from schoolsms.messaging.failures import after_failures, opt_out_by_carrier
from schoolsms.messaging.gateway import StatusUpdate
from schoolsms.messaging.models import Message
from schoolsms.messaging.transitions import FAILED, SENDING, SENT


@dataclass
class CallbackReport:
    applied: int = 0
    ignored: int = 0
    broadcasts: set[int] = field(default_factory=set)
    retries: dict[int, dt.datetime] = field(default_factory=dict)  # broadcast -> earliest retry


def _apply_failure(
    update: StatusUpdate, family: str, now: dt.datetime, report: CallbackReport
) -> bool:
    row = (
        Message.objects.filter(
            carrier_message_id=update.carrier_id,
            result__in=[SENDING, SENT],
            delivered_at__isnull=True,
        )
        .values("id", "result", "attempts", "phone", "organization_id", "broadcast_id")
        .first()
    )
    if row is None:
        return False
    decision = failure_decide(family=family, code=update.code, attempts=row["attempts"], now=now)
    if decision.next_attempt_at is not None:
        changed = transitions.receipt_retry_later(
            row_id=row["id"],
            expected=row["result"],
            carrier_id=update.carrier_id,
            next_attempt_at=decision.next_attempt_at,
            carrier_code=decision.carrier_code,
            now=now,
        )
        if changed:
            previous = report.retries.get(row["broadcast_id"])
            if previous is None or decision.next_attempt_at < previous:
                report.retries[row["broadcast_id"]] = decision.next_attempt_at
    else:
        changed = transitions.receipt_refuse(
            row_id=row["id"],
            expected=row["result"],
            carrier_id=update.carrier_id,
            result=decision.result,
            reason=decision.reason,
            carrier_code=decision.carrier_code,
            now=now,
        )
        if changed and decision.opted_out:
            opt_out_by_carrier(refused=[(row["id"], decision.carrier_code)])
        elif changed and decision.result == FAILED:
            after_failures(
                organization_id=row["organization_id"],
                failed=[(row["phone"] or "", decision.reason)],
            )
    if changed:
        report.broadcasts.add(row["broadcast_id"])
    return changed


def _apply_one(update: StatusUpdate, family: str, now: dt.datetime, report: CallbackReport) -> None:
    """One receipt the slow way: failures (which decide a retry) and anything unusual."""
    at = update.at or now
    if update.status == "sent":
        moved = transitions.receipt_sent(carrier_id=update.carrier_id, at=at, now=now)
        applied = bool(moved)
    elif update.status == "delivered":
        # Usually the row is Sent already; only a receipt that overtakes `sent` moves a row
        # out of Sending, and only that can finish the broadcast.
        applied, moved = transitions.receipt_delivered(carrier_id=update.carrier_id, at=at, now=now)
    elif update.status == "failed":
        with transaction.atomic():
            applied = _apply_failure(update, family, now, report)
        moved = []
    else:
        applied, moved = False, []
    report.broadcasts.update(moved)
    report.applied += applied
    report.ignored += not applied


def status_updates_apply(*, family: str, updates: Iterable[StatusUpdate]) -> CallbackReport:
    """Apply delivery receipts (in the order given per message). Forward-only: every UPDATE
    names the results it may move from, so duplicates and late arrivals (a `sent` after
    `delivered`) change nothing. Plain sent/delivered receipts go set-based, a few
    statements per batch; failures, which need a decision, one at a time."""
    report = CallbackReport()
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    stamp = adapt(now)
    per_message: dict[str, list[StatusUpdate]] = {}
    for update in updates:
        seq = per_message.get(update.carrier_id)
        if seq is None:
            per_message[update.carrier_id] = [update]
        else:
            seq.append(update)
    simple: dict[tuple[str, ...], list[tuple[Any, ...]]] = {
        kind: [] for kind in transitions.RECEIPT_KINDS
    }
    slow: list[StatusUpdate] = []
    for cid, seq in per_message.items():
        kind = tuple([u.status for u in seq]) if len(seq) > 1 else (seq[0].status,)
        rows = simple.get(kind)
        if rows is None:
            slow.extend(seq)
            continue
        # Values for transitions.receipts_apply; a receipt without a time gets now.
        first = adapt(seq[0].at) if seq[0].at else stamp
        if len(kind) == 1 and kind[0] == "sent":
            rows.append((first, cid))
        else:
            rows.append((first, adapt(seq[-1].at) if seq[-1].at else stamp, cid))
    with transaction.atomic(), connection.cursor() as cursor:
        for receipt_kind, batch in simple.items():
            # Every broadcast a row moved in is checked for completion afterwards.
            moved = transitions.receipts_apply(cursor, receipt_kind, batch, now=stamp)
            report.broadcasts.update(moved)
            report.applied += len(moved)
            report.ignored += len(batch) - len(moved)
    for update in slow:
        _apply_one(update, family, now, report)
    return report
