"""Messages per second per sender, shared by every worker process through the database.

Two parts: a slot pointer (one row per sender) spreads each sender's messages evenly over the
second, whichever worker sends them; a log of the chunks let go in the last second
(ThrottleChunk), checked and written in one transaction just before each carrier call, makes
sure no one-second window ever holds more than the limit, even when a stalled worker runs
late while others are on time."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import F, Q

from schoolsms.accounts.models import Sender
from schoolsms.messaging.models import SenderThrottle, ThrottleChunk


def throttle_chunk(mps: int, batch_size: int, concurrency: int = 1) -> int:
    """How many messages to reserve and send at once: a fiftieth of a second's worth, so the
    jitter between a slot and the carrier's clock adds little to any one-second window.

    A gateway that sends `concurrency` requests at once (each taking a network round trip)
    gets up to a fifth of a second's worth: chunks of two at ~100 ms per call would cap a
    short code's 100/s at 20/s."""
    if mps <= 0:
        return batch_size
    return max(1, min(batch_size, max(mps // 50, min(concurrency, mps // 5))))


SPIN_SECONDS = 0.001
# A carrier stamps a message a little after we let it go; allow this much more for a window.
WINDOW_MARGIN = 0.0001


# How far behind the clock the slot pointer may be and still be followed (slots in the
# past are used at once): a sender stalled for a moment (a slow disk, a busy CPU) makes up
# the slots it missed instead of losing them. The release check (below) still keeps every
# one-second window within the limit.
CATCH_UP = 0.1


def _lock(sender: Sender) -> None:
    """Take the sender's throttle row (made if missing) for this transaction, with a write
    first: one reservation or release at a time per sender (a row lock on PostgreSQL; SQLite
    has a single writer, and a transaction that writes first never reads stale data)."""
    row = SenderThrottle.objects.filter(sender_id=sender.pk)
    if not row.update(next_slot=F("next_slot")):
        SenderThrottle.objects.get_or_create(sender_id=sender.pk)
        row.update(next_slot=F("next_slot"))


def throttle_reserve(
    *,
    sender: Sender,
    count: int,
    clock: float | None = None,
    catch_up: float = 0.0,
) -> float:
    """Reserve `count` send slots for the sender; returns the epoch second the first may go
    (a missed slot at most `catch_up` old is handed out as it is, to be used at once).

    The slot pointer only moves forward, by count/mps, in a single UPDATE, so workers on
    SQLite or PostgreSQL never get overlapping slots."""
    mps = sender.mps
    if mps <= 0 or count <= 0:
        return 0.0
    now = time.time() if clock is None else clock
    width = count / mps
    table = connection.ops.quote_name(SenderThrottle._meta.db_table)
    with transaction.atomic():
        _lock(sender)
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


# How long a chunk let go and never answered for still counts: the worker that sent it died
# mid-call (a live call times out long before this).
IN_FLIGHT_SECONDS = 30.0
# How often to ask again while chunks still out (another worker's call) fill the window.
RETRY_SECONDS = 0.002
# Chunks older than this are deleted when a new one is written.
KEEP_SECONDS = 2.0


def throttle_release(*, sender: Sender, count: int) -> tuple[int | None, float]:
    """Let `count` messages go now if no one-second window would then hold more than the
    limit, counting every worker's chunks: returns (chunk id, now). Otherwise nothing is
    written and it returns (None, the earliest moment worth asking again).

    A chunk's messages were stamped by the carrier somewhere between its release and its
    answer; ours will be stamped after now. So a chunk answered for more than a second ago
    can share no window with ours, and one still out may share any."""
    with transaction.atomic():
        _lock(sender)
        now = time.time()
        recent = list(
            ThrottleChunk.objects.filter(sender_id=sender.pk)
            .filter(
                Q(done_at__gt=now - 1.0 - WINDOW_MARGIN)
                | Q(done_at__isnull=True, released_at__gt=now - IN_FLIGHT_SECONDS)
            )
            .values_list("done_at", "count")
        )
        total = count + sum(c for _, c in recent)
        if total <= sender.mps:
            ThrottleChunk.objects.filter(sender_id=sender.pk).filter(
                Q(done_at__lt=now - KEEP_SECONDS) | Q(released_at__lt=now - IN_FLIGHT_SECONDS)
            ).delete()
            chunk = ThrottleChunk.objects.create(sender_id=sender.pk, count=count, released_at=now)
            return chunk.pk, now
    # Too many: wait until enough answered chunks have left the window.
    for done, c in sorted((d, c) for d, c in recent if d is not None):
        total -= c
        if total <= sender.mps:
            return None, done + 1.0 + WINDOW_MARGIN
    return None, now + RETRY_SECONDS


def _wait_until(when: float, meanwhile: Callable[[float], None] | None) -> None:
    if meanwhile is not None and when - time.time() > 0:
        meanwhile(when)
    # Sleep to just short of the moment, then spin: a sleep wakes a little late.
    delay = when - time.time() - SPIN_SECONDS
    if delay > 0:
        time.sleep(delay)
    while time.time() < when:
        pass


class SendPacer:
    """One sender's pacing for one run of sends (a send round), as a context manager: the
    chunk let go and not yet answered for, and the slot already reserved for the next chunk.

        with SendPacer(sender, meanwhile=gateway_poll) as pacer:
            for chunk in chunks:
                pacer.wait(len(chunk))   # returns when the chunk may go
                gateway.send_batch(chunk)
                pacer.sent(next_count=...)

    Everything shared between workers lives in the database; nothing here outlives the
    round. On leaving, a chunk still out (the carrier call raised) is marked answered, so
    other workers do not count it for IN_FLIGHT_SECONDS. `meanwhile(until)` may use a wait
    (a gateway reading receipts) and must return by `until`."""

    def __init__(self, sender: Sender, *, meanwhile: Callable[[float], None] | None = None):
        self.sender = sender
        self.meanwhile = meanwhile
        self._out: int | None = None  # the chunk let go, not yet answered for (its row id)
        self._ahead: tuple[float, int] | None = None  # reserved slot for the next chunk

    def __enter__(self) -> SendPacer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._answered()
        self._ahead = None

    def _reserve(self, count: int) -> float:
        return throttle_reserve(sender=self.sender, count=count, catch_up=CATCH_UP)

    def _answered(self) -> None:
        if self._out is not None:
            ThrottleChunk.objects.filter(pk=self._out).update(done_at=time.time())
            self._out = None

    def wait(self, count: int) -> None:
        """Block until `count` messages may go out for the sender; call sent() once the
        carrier has answered."""
        if self.sender.mps <= 0:
            return
        ahead, self._ahead = self._ahead, None
        start = ahead[0] if ahead is not None and ahead[1] >= count else self._reserve(count)
        _wait_until(start, self.meanwhile)
        # The slot paces the sender; the release (checked against every worker's last
        # second) is what keeps it within the limit, whatever stalls made slots run late.
        while True:
            chunk_id, when = throttle_release(sender=self.sender, count=count)
            if chunk_id is not None:
                self._out = chunk_id
                return
            _wait_until(when, self.meanwhile)

    def sent(self, *, next_count: int = 0) -> None:
        """The carrier has answered for the messages wait() let go. With
        `next_count`, the next chunk's slot is reserved now: its wait then covers the time the
        reservation takes, which a busy database sometimes stretches to milliseconds."""
        if self.sender.mps <= 0:
            return
        self._answered()
        if next_count:
            self._ahead = (self._reserve(next_count), next_count)
