"""Messages per second per sender, shared by every worker process through one database row."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection, transaction

from schoolsms.accounts.models import Sender
from schoolsms.messaging.models import SenderThrottle


def throttle_chunk(mps: int, batch_size: int) -> int:
    """How many messages to reserve and send at once: a fiftieth of a second's worth, so the
    jitter between a slot and the carrier's clock adds little to any one-second window."""
    if mps <= 0:
        return batch_size
    return max(1, min(batch_size, mps // 50))


# One worker spaces its own sends by this much more than the rate allows: its clock reading
# when it releases a chunk and the carrier's stamp on it differ by a few microseconds, which
# could otherwise let a one-second window hold one chunk more than the limit.
PACE_GUARD = 1.001
SPIN_SECONDS = 0.001


def throttle_reserve(
    *, sender: Sender, count: int, clock: float | None = None, not_before: float = 0.0
) -> float:
    """Reserve `count` send slots for the sender; returns the epoch second the first may go
    (never before `not_before`).

    The slot pointer only moves forward, by count/mps, in a single UPDATE, so workers on
    SQLite or PostgreSQL never get overlapping slots."""
    mps = sender.mps
    if mps <= 0 or count <= 0:
        return 0.0
    now = max(time.time() if clock is None else clock, not_before)
    width = count / mps
    table = connection.ops.quote_name(SenderThrottle._meta.db_table)
    with transaction.atomic():
        SenderThrottle.objects.get_or_create(sender_id=sender.pk)
        with connection.cursor() as cursor:
            # Never bank unused time: an idle sender starts from now, not from the past.
            cursor.execute(
                f"UPDATE {table} SET next_slot = "
                "CASE WHEN next_slot > %s THEN next_slot ELSE %s END + %s "
                "WHERE sender_id = %s RETURNING next_slot",
                [now, now, width, sender.pk],
            )
            row = cursor.fetchone()
    assert row is not None
    return float(row[0]) - width


def throttle_wait(
    *,
    sender: Sender,
    count: int,
    meanwhile: Callable[[float], None] | None = None,
    not_before: float = 0.0,
) -> float:
    """Block until `count` messages may go out for the sender (and not before `not_before`);
    `meanwhile(until)` may use the wait (a gateway reading receipts) and must return by
    `until`. Returns the clock when it let them go: pass `throttle_after(...)` of it as the
    next call's `not_before`."""
    start = throttle_reserve(sender=sender, count=count, not_before=not_before)
    if meanwhile is not None and start - time.time() > 0:
        meanwhile(start)
    # Sleep to just short of the slot, then spin: a sleep wakes a little late, and every
    # late wake-up would push this worker's later chunks back (see throttle_after).
    delay = start - time.time() - SPIN_SECONDS
    if delay > 0:
        time.sleep(delay)
    while (now := time.time()) < start:
        pass
    return now


def throttle_after(*, sender: Sender, count: int, released: float) -> float:
    """The earliest this worker's next chunk may go after `count` messages released then."""
    return released + count / sender.mps * PACE_GUARD if sender.mps > 0 else 0.0
