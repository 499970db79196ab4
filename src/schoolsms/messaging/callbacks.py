"""What carriers tell us after a send: delivery receipts (applied forward-only) and inbound
texts (keywords change consent and get their reply)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from schoolsms.accounts.models import Sender
from schoolsms.messaging.gateway import Gateway, InboundMessage, StatusUpdate
from schoolsms.messaging.inbound import inbound_receive
from schoolsms.messaging.models import Message
from schoolsms.messaging.pipeline import (
    FAILED,
    NOT_SENT,
    SENDING,
    SENT,
    after_failures,
    failure_decide,
    opt_out_by_carrier,
)

logger = logging.getLogger(__name__)


@dataclass
class CallbackReport:
    applied: int = 0
    ignored: int = 0
    broadcasts: set[int] = field(default_factory=set)
    retries: dict[int, dt.datetime] = field(default_factory=dict)  # broadcast -> earliest retry


def _table() -> str:
    return connection.ops.quote_name(Message._meta.db_table)


def _returning(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


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
    base = Message.objects.filter(
        pk=row["id"], result=row["result"], carrier_message_id=update.carrier_id
    )
    if decision.next_attempt_at is not None:
        changed = base.update(
            result=NOT_SENT,
            next_attempt_at=decision.next_attempt_at,
            carrier_code=decision.carrier_code,
            carrier_message_id=None,  # a late copy of this callback then matches nothing
            claimed_at=None,
            sent_at=None,
            updated_at=now,
        )
        if changed:
            previous = report.retries.get(row["broadcast_id"])
            if previous is None or decision.next_attempt_at < previous:
                report.retries[row["broadcast_id"]] = decision.next_attempt_at
    else:
        changed = base.update(
            result=decision.result,
            reason=decision.reason,
            carrier_code=decision.carrier_code,
            updated_at=now,
        )
        if changed and decision.opted_out:
            opt_out_by_carrier(message_ids=[row["id"]], code=update.code)
        elif changed and decision.result == FAILED:
            after_failures(
                organization_id=row["organization_id"],
                failed=[(row["phone"] or "", decision.reason)],
            )
    if changed:
        report.broadcasts.add(row["broadcast_id"])
    return bool(changed)


# Receipts that need no decision, applied set-based: one compare-and-set UPDATE per message,
# by executemany. Each names the results it may move from (forward-only), exactly as applying
# the receipts one at a time would: `sent` moves Sending -> Sent; `delivered` stamps a Sent row
# once, or moves a Sending row (its `sent` overtaken) straight to Sent; `sent` then `delivered`
# for one message is the two in order (SET expressions read the row as it was before).
_SIMPLE_SQL = {
    ("sent",): f"SET result = '{SENT}', sent_at = %s, updated_at = %s "
    f"WHERE carrier_message_id = %s AND result = '{SENDING}'",
    ("delivered",): f"SET result = '{SENT}', sent_at = CASE WHEN result = '{SENDING}' "
    "THEN COALESCE(sent_at, %s) ELSE sent_at END, delivered_at = %s, updated_at = %s "
    f"WHERE carrier_message_id = %s AND (result = '{SENDING}' "
    f"OR (result = '{SENT}' AND delivered_at IS NULL))",
    ("sent", "delivered"): f"SET result = '{SENT}', sent_at = CASE WHEN result = '{SENDING}' "
    "THEN %s ELSE sent_at END, delivered_at = %s, updated_at = %s "
    f"WHERE carrier_message_id = %s AND (result = '{SENDING}' "
    f"OR (result = '{SENT}' AND delivered_at IS NULL))",
}
# The results are written into the SQL, not bound: SQLite re-plans a statement for every
# execution when a bound value meets a column a partial index is conditioned on (result),
# which made each UPDATE ten times slower.


def _simple_params(kind: tuple[str, ...], seq: list[StatusUpdate], stamp: Any) -> tuple[Any, ...]:
    """Parameters for _SIMPLE_SQL[kind]; `stamp` is now, adapted (receipts without a time)."""
    adapt = connection.ops.adapt_datetimefield_value
    first = adapt(seq[0].at) if seq[0].at else stamp
    if kind == ("sent",):
        return (first, stamp, seq[0].carrier_id)
    last = adapt(seq[-1].at) if seq[-1].at else stamp
    return (first, last, stamp, seq[0].carrier_id)


def _apply_one(update: StatusUpdate, family: str, now: dt.datetime, report: CallbackReport) -> None:
    """One receipt the slow way: failures (which decide a retry) and anything unusual."""
    table = _table()
    at = connection.ops.adapt_datetimefield_value(update.at or now)
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows: list[tuple[Any, ...]] = []
    if update.status == "sent":
        rows = _returning(
            f"UPDATE {table} SET result = %s, sent_at = %s, updated_at = %s "
            "WHERE carrier_message_id = %s AND result = %s RETURNING broadcast_id",
            [SENT, at, stamp, update.carrier_id, SENDING],
        )
    elif update.status == "delivered":
        # Usually the row is Sent already; only a receipt that overtakes `sent` moves a row
        # out of Sending, and only that can finish the broadcast.
        if _returning(
            f"UPDATE {table} SET delivered_at = %s, updated_at = %s "
            "WHERE carrier_message_id = %s AND result = %s AND delivered_at IS NULL "
            "RETURNING id",
            [at, stamp, update.carrier_id, SENT],
        ):
            report.applied += 1
            return
        rows = _returning(
            f"UPDATE {table} SET result = %s, sent_at = COALESCE(sent_at, %s), "
            "delivered_at = %s, updated_at = %s "
            "WHERE carrier_message_id = %s AND result = %s RETURNING broadcast_id",
            [SENT, at, at, stamp, update.carrier_id, SENDING],
        )
    elif update.status == "failed":
        with transaction.atomic():
            applied = _apply_failure(update, family, now, report)
        report.applied += applied
        report.ignored += not applied
        return
    for (broadcast_id,) in rows:
        report.broadcasts.add(int(broadcast_id))
    report.applied += len(rows)
    report.ignored += not rows


def status_updates_apply(*, family: str, updates: Iterable[StatusUpdate]) -> CallbackReport:
    """Apply delivery receipts (in the order given per message). Forward-only: every UPDATE
    names the results it may move from, so duplicates and late arrivals (a `sent` after
    `delivered`) change nothing. Plain sent/delivered receipts go set-based."""
    report = CallbackReport()
    now = timezone.now()
    per_message: dict[str, list[StatusUpdate]] = {}
    for update in updates:
        per_message.setdefault(update.carrier_id, []).append(update)
    simple: dict[tuple[str, ...], list[tuple[Any, ...]]] = {kind: [] for kind in _SIMPLE_SQL}
    slow: list[StatusUpdate] = []
    stamp = connection.ops.adapt_datetimefield_value(now)
    ids: list[str] = []
    for cid, seq in per_message.items():
        kind: tuple[str, ...] = tuple(u.status for u in seq)
        if kind in simple:
            simple[kind].append(_simple_params(kind, seq, stamp))
            ids.append(cid)
        else:
            slow.extend(seq)
    table = _table()
    with transaction.atomic(), connection.cursor() as cursor:
        # Every broadcast a receipt may settle a row of is checked for completion afterwards.
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            cursor.execute(
                f"SELECT DISTINCT broadcast_id FROM {table} WHERE carrier_message_id IN "
                f"({', '.join(['%s'] * len(part))})",
                part,
            )
            report.broadcasts.update(int(b) for (b,) in cursor.fetchall())
        for kind, params in simple.items():
            if params:
                cursor.executemany(f"UPDATE {table} {_SIMPLE_SQL[kind]}", params)
                changed = max(cursor.rowcount, 0)
                report.applied += changed
                report.ignored += len(params) - changed
    for update in slow:
        _apply_one(update, family, now, report)
    return report


def status_callbacks_finish(report: CallbackReport) -> None:
    """Schedule retries and complete broadcasts whose last row just settled."""
    from schoolsms.messaging.tasks import broadcast_follow_up

    broadcast_follow_up(broadcast_ids=report.broadcasts, retries=report.retries)


def inbound_handle(*, gateway: Gateway, sender: Sender, inbound: InboundMessage) -> str | None:
    """Act on a text sent to our sender (messaging.inbound decides) and send the reply through
    the gateway's API. Returns the reply sent, if any."""
    outcome = inbound_receive(sender=sender, inbound=inbound, channel=gateway.name)
    if outcome.reply is not None and not outcome.duplicate:
        gateway.send_reply(to=inbound.sender_phone, body=outcome.reply)
    return outcome.reply
