"""The simulated carrier's receipts: it settles what it accepted, then hands Twilio's status
callbacks to the webhook's own steps (parse, apply), a batch at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.carriers.simulator.scenario import callbacks_for
from schoolsms.messaging import codes
from schoolsms.messaging.callbacks import (
    CallbackReport,
    status_callbacks_finish,
    status_updates_apply,
)
from schoolsms.messaging.gateway import CarrierStatus, StatusUpdate
from schoolsms.messaging.models import Message

# A callback for a message whose sending worker has not recorded the sid yet is held back
# and tried again (Twilio's real race, made harmless here), for up to this many rounds;
# after that it is dropped and the reconciler asks the carrier instead.
HOLD_ROUNDS = 50
HOLD_SECONDS = 0.2
SETTLE_CHUNK = 500


def status_updates_take(updates: list[StatusUpdate]) -> CallbackReport:
    """Apply receipts, then schedule retries and complete finished broadcasts."""
    report = status_updates_apply(family=codes.TWILIO, updates=updates)
    status_callbacks_finish(report)
    return report


def _settle(cursor: Any, rows: list[tuple[Any, ...]], stamp: Any, done: Any) -> None:
    """The carrier's own record settles whether or not our webhook hears of it: each row's
    final status, set for many rows per statement."""
    table = connection.ops.quote_name(SimulatedMessage._meta.db_table)
    final: dict[str, list[int]] = {}
    settles: dict[tuple[str, str], list[int]] = {}  # (status, error code) -> its final list
    for pk, _sid, status, error_code, _stale, _known in rows:
        ids = settles.get((status, error_code))
        if ids is None:
            settled = callbacks_for(error_code)[-1][0] if status == "queued" else status
            ids = settles[status, error_code] = final.setdefault(settled, [])
        ids.append(pk)
    for status, ids in final.items():
        for start in range(0, len(ids), SETTLE_CHUNK):
            part = ids[start : start + SETTLE_CHUNK]
            cursor.execute(
                f"UPDATE {table} SET status = %s, updated_at = %s, callbacks_at = %s "
                f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                [status, stamp, done, *part],
            )


def callbacks_deliver(*, sender_code: str, limit: int) -> dict[str, Any]:
    """Post the callbacks of up to `limit` messages whose callback delay has passed. Returns
    what it did: `posted` callbacks, and `due`, `held` and `dropped` messages.

    The simulator runs inside our own worker, so its callbacks are handed to the webhook's
    parse and apply steps directly: no form is signed and checked again per callback (the
    webhook view checks the signature of every request that really comes over HTTP), and
    the whole batch is applied at once, set-based."""
    now = timezone.now()
    delay = dt.timedelta(seconds=settings.SCHOOLSMS_SIMULATOR_CALLBACK_DELAY)
    give_up = now - dt.timedelta(seconds=HOLD_SECONDS * HOLD_ROUNDS)
    adapt = connection.ops.adapt_datetimefield_value
    quote = connection.ops.quote_name
    table = quote(SimulatedMessage._meta.db_table)
    messages = quote(Message._meta.db_table)
    # Plain rows (this reads every message sent): whether the sending worker has recorded the
    # sid on our Message row yet (the row it was sent for, by its primary key: a sid is only
    # ever recorded there), and for one it has not, whether it waited long enough to be given
    # up on.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.sid, s.status, s.error_code, "
            f"CASE WHEN s.created_at < %s THEN 1 ELSE 0 END, "
            f"CASE WHEN EXISTS (SELECT 1 FROM {messages} m "
            "WHERE m.id = s.message_ref AND m.carrier_message_id = s.sid) THEN 1 ELSE 0 END "
            f"FROM {table} s WHERE s.sender = %s AND s.callbacks_at IS NULL "
            "AND s.message_ref IS NOT NULL AND s.created_at <= %s "
            "ORDER BY s.created_at, s.id LIMIT %s",
            [adapt(give_up), sender_code, adapt(now - delay), limit],
        )
        due = cursor.fetchall()
    if not due:
        return {"posted": 0, "due": 0, "held": 0, "dropped": 0}
    stamp = adapt(now)
    ready = [row for row in due if row[5]]
    dropped = [row for row in due if not row[5] and row[4]]
    held = [row for row in due if not row[5] and not row[4]]
    # Each message's callbacks, in our words: worked out once per error code in the batch.
    receipts: dict[str, list[tuple[CarrierStatus, str]]] = {}
    updates: list[StatusUpdate] = []
    for _pk, sid, _status, error_code, _stale, _known in ready:
        plan = receipts.get(error_code)
        if plan is None:
            plan = receipts[error_code] = [
                (twilio_wire.STATUSES[status], code) for status, code in callbacks_for(error_code)
            ]
        for status, code in plan:
            updates.append(StatusUpdate(sid, status, code))
    with transaction.atomic(), connection.cursor() as cursor:
        _settle(cursor, held, stamp, None)
        _settle(cursor, dropped, stamp, stamp)
        status_updates_take(updates)
        _settle(cursor, ready, stamp, stamp)
    return {"posted": len(updates), "due": len(due), "held": len(held), "dropped": len(dropped)}
