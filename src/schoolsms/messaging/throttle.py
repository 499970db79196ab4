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


def throttle_reserve(*, sender: Sender, count: int, clock: float | None = None) -> float:
    """Reserve `count` send slots for the sender; returns the epoch second the first may go.

    The slot pointer only moves forward, by count/mps, in a single UPDATE, so workers on
    SQLite or PostgreSQL never get overlapping slots."""
    mps = sender.mps
    if mps <= 0 or count <= 0:
        return 0.0
    now = time.time() if clock is None else clock
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
    *, sender: Sender, count: int, meanwhile: Callable[[float], None] | None = None
) -> None:
    """Block until `count` messages may go out for the sender; `meanwhile(until)` may use
    the wait (a gateway reading receipts) and must return by `until`."""
    start = throttle_reserve(sender=sender, count=count)
    if meanwhile is not None and start - time.time() > 0:
        meanwhile(start)
    delay = start - time.time()
    if delay > 0:
        time.sleep(delay)
