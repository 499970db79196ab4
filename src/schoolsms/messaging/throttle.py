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


# How far behind the clock the slot pointer may be and still be followed (slots in the
# past are used at once): a sender stalled for a moment (a slow disk, a busy CPU) makes up
# the slots it missed instead of losing them. Only a single process's own one-second window
# (below) is strict; several workers together may, right after such a stall, go over the
# limit in one second by at most this many seconds' worth.
CATCH_UP = 0.1


def throttle_reserve(
    *,
    sender: Sender,
    count: int,
    clock: float | None = None,
    not_before: float = 0.0,
    catch_up: float = 0.0,
) -> float:
    """Reserve `count` send slots for the sender; returns the epoch second the first may go
    (never before `not_before`, unless it is a missed slot at most `catch_up` old).

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
            # Never bank idle time: a sender idle for longer than `catch_up` starts from now,
            # not from the past.
            cursor.execute(
                f"UPDATE {table} SET next_slot = "
                "CASE WHEN next_slot > %s THEN next_slot ELSE %s END + %s "
                "WHERE sender_id = %s RETURNING next_slot",
                [now - catch_up, now, width, sender.pk],
            )
            row = cursor.fetchone()
    assert row is not None
    return float(row[0]) - width


# Per sender, in this process: when recent chunks came back from the carrier, and the slot
# already reserved for the next chunk (start, size).
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


def _reserve(sender: Sender, count: int) -> float:
    return throttle_reserve(
        sender=sender,
        count=count,
        not_before=_window_floor(sender, count, time.time()),
        catch_up=CATCH_UP,
    )


def throttle_wait(
    *, sender: Sender, count: int, meanwhile: Callable[[float], None] | None = None
) -> None:
    """Block until `count` messages may go out for the sender; `meanwhile(until)` may use
    the wait (a gateway reading receipts) and must return by `until`. Call throttle_sent
    once the carrier has answered."""
    if sender.mps <= 0:
        return
    ahead = _AHEAD.pop(sender.pk, None)
    start = ahead[0] if ahead is not None and ahead[1] >= count else _reserve(sender, count)
    # The window is checked again now: a slot reserved ahead (or a missed one being made
    # up) must still keep this process's last second within the limit.
    start = max(start, _window_floor(sender, count, time.time()))
    if meanwhile is not None and start - time.time() > 0:
        meanwhile(start)
    # Sleep to just short of the slot, then spin: a sleep wakes a little late.
    delay = start - time.time() - SPIN_SECONDS
    if delay > 0:
        time.sleep(delay)
    while time.time() < start:
        pass


def throttle_sent(*, sender: Sender, count: int, next_count: int = 0) -> None:
    """The carrier has answered for `count` messages let go by throttle_wait. With
    `next_count`, the next chunk's slot is reserved now: its wait then covers the time the
    reservation takes, which a busy database sometimes stretches to milliseconds."""
    if sender.mps <= 0:
        return
    _RECENT.setdefault(sender.pk, deque()).append((time.time(), count))
    if next_count:
        _AHEAD[sender.pk] = (_reserve(sender, next_count), next_count)
