"""Messages per second per sender, shared by every worker process through one database row."""

from __future__ import annotations

import time
from collections import deque
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


SPIN_SECONDS = 0.001
# A carrier stamps a message a little after we let it go; allow this much more for a window.
WINDOW_MARGIN = 0.0001


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


# Per sender, in this process: when the next chunk may go (the last release plus its
# width, kept across send tasks), when recent chunks came back from the carrier, and the
# slot already reserved for the next chunk (start, size).
_PACE: dict[int, float] = {}
_RECENT: dict[int, deque[tuple[float, int]]] = {}
_AHEAD: dict[int, tuple[float, int]] = {}


def _window_floor(sender: Sender, count: int, now: float) -> float:
    """The earliest `count` more may go so that no one-second window of this process's
    sends holds more than the limit, measured from when each chunk's send call *returned*:
    the carrier stamped it at some moment before then, so a late stamp (a pause between
    our release and the carrier's clock) can never squeeze an extra chunk into a second."""
    recent = _RECENT.setdefault(sender.pk, deque())
    while recent and recent[0][0] + 1.0 + WINDOW_MARGIN <= now:
        recent.popleft()
    total = sum(c for _, c in recent) + count
    floor = 0.0
    for done, c in recent:
        if total <= sender.mps:
            break
        floor = done + 1.0 + WINDOW_MARGIN
        total -= c
    return floor


def _not_before(sender: Sender, count: int) -> float:
    return max(_PACE.get(sender.pk, 0.0), _window_floor(sender, count, time.time()))


def throttle_wait(
    *, sender: Sender, count: int, meanwhile: Callable[[float], None] | None = None
) -> None:
    """Block until `count` messages may go out for the sender; `meanwhile(until)` may use
    the wait (a gateway reading receipts) and must return by `until`. Call throttle_sent
    once the carrier has answered."""
    if sender.mps <= 0:
        return
    ahead = _AHEAD.pop(sender.pk, None)
    if ahead is not None and ahead[1] >= count:
        start = max(ahead[0], _not_before(sender, count))
    else:
        start = throttle_reserve(sender=sender, count=count, not_before=_not_before(sender, count))
    if meanwhile is not None and start - time.time() > 0:
        meanwhile(start)
    # Sleep to just short of the slot, then spin: a sleep wakes a little late, and every
    # late wake-up would push this process's later chunks back.
    delay = start - time.time() - SPIN_SECONDS
    if delay > 0:
        time.sleep(delay)
    while (released := time.time()) < start:
        pass
    # Paced from when the chunk really went: a late release must not let the next chunk
    # follow it closer than its width.
    _PACE[sender.pk] = released + count / sender.mps


def throttle_sent(*, sender: Sender, count: int, next_count: int = 0) -> None:
    """The carrier has answered for `count` messages let go by throttle_wait. With
    `next_count`, the next chunk's slot is reserved now: its wait then covers the time the
    reservation takes, which a busy database sometimes stretches to milliseconds."""
    if sender.mps <= 0:
        return
    _RECENT.setdefault(sender.pk, deque()).append((time.time(), count))
    if next_count:
        start = throttle_reserve(
            sender=sender, count=next_count, not_before=_not_before(sender, next_count)
        )
        _AHEAD[sender.pk] = (start, next_count)
