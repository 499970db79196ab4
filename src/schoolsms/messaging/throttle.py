"""Messages per second per sender, shared by every worker process through the database.

Two parts: a slot pointer (one row per sender) spreads each sender's messages evenly over the
second, whichever worker sends them; a log of the chunks let go in the last second
(ThrottleChunk), checked and written in one transaction just before each carrier call, makes
sure no one-second window ever holds more than the limit, even when a stalled worker runs
late while others are on time.

The window is the carrier's: it counts a message when the request reaches it. So a chunk
counts from its release until a second after its requests were written (a new connection or
a busy machine can make that tens of milliseconds), not until a second after the carrier's
answer; a worker lets the next chunk go while the carrier is still answering the last ones
(see pipeline), and a chunk whose worker died before saying its requests were written counts
for UNSENT_SECONDS."""

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

    A gateway that sends `concurrency` requests at once gets up to a fifth of a second's
    worth: each chunk costs a few transactions (reserve, release, written, the answers), which
    at a fiftieth of a second's worth would take most of the worker's time."""
    if mps <= 0:
        return batch_size
    return max(1, min(batch_size, max(mps // 50, min(concurrency, mps // 5))))


SPIN_SECONDS = 0.001
# A request written is stamped by the carrier a little later (the network, the carrier's own
# queue): a chunk counts this much longer than a second after its requests were written. It
# costs the sender about that share of its rate. A gateway that knows when its carrier stamped
# the requests says so (`window_margin`, see gateway.Gateway): the simulator's is 0.
WINDOW_MARGIN = 0.04


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


# How long a chunk let go and never marked written still counts: its worker died mid-call (a
# live one marks it within its connect timeout).
UNSENT_SECONDS = 30.0
# Chunks older than this are deleted when a new one is written.
KEEP_SECONDS = 2.0
# How often to ask again when the window is full of chunks still being written.
RETRY_SECONDS = 0.002


def throttle_release(
    *, sender: Sender, count: int, margin: float = WINDOW_MARGIN
) -> tuple[int | None, float]:
    """Let `count` messages go now if no one-second window would then hold more than the
    limit, counting every worker's chunks, answered or not: returns (chunk id, now). A
    written chunk counts until `margin` past a second after it was written.
    Otherwise nothing is written and it returns (None, the moment enough of them leave the
    window, or a moment later to ask again)."""
    with transaction.atomic():
        _lock(sender)
        now = time.time()
        recent = list(
            ThrottleChunk.objects.filter(sender_id=sender.pk)
            .filter(
                Q(sent_at__gt=now - 1.0 - margin)
                | Q(sent_at__isnull=True, released_at__gt=now - UNSENT_SECONDS)
            )
            .values_list("sent_at", "count")
        )
        total = count + sum(c for _, c in recent)
        if total <= sender.mps:
            ThrottleChunk.objects.filter(sender_id=sender.pk).filter(
                Q(sent_at__lt=now - KEEP_SECONDS) | Q(released_at__lt=now - UNSENT_SECONDS)
            ).delete()
            chunk = ThrottleChunk.objects.create(sender_id=sender.pk, count=count, released_at=now)
            return chunk.pk, now
    # Too many: wait until enough written chunks have left the window.
    for sent, c in sorted((t, c) for t, c in recent if t is not None):
        total -= c
        if total <= sender.mps:
            return None, max(sent + 1.0 + margin, now + RETRY_SECONDS)
    return None, now + RETRY_SECONDS


def throttle_sent(*, chunk_id: int, at: float) -> None:
    """The chunk's requests were all written by `at` (epoch seconds)."""
    ThrottleChunk.objects.filter(pk=chunk_id).update(sent_at=at)


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
    """One sender's pacing for one run of sends (a send round): the chunk let go and not yet
    marked written, and the slot already reserved for the next chunk. Used as a context
    manager:

        with SendPacer(sender, meanwhile=gateway_poll) as pacer:
            for chunk in chunks:
                pacer.wait(len(chunk))   # returns when the chunk may go
                start sending the chunk, wait until its requests are written
                pacer.sent(when_written, next_count=...)

    Everything shared between workers lives in the database; nothing here outlives the
    round. On leaving, a chunk not marked written (starting it raised) is marked written now,
    so other workers do not count it for UNSENT_SECONDS. `meanwhile(until)` may use a wait (a
    gateway reading receipts) and must return by `until`."""

    def __init__(
        self,
        sender: Sender,
        *,
        meanwhile: Callable[[float], None] | None = None,
        margin: float = WINDOW_MARGIN,
    ):
        self.sender = sender
        self.meanwhile = meanwhile
        self.margin = margin
        self._out: int | None = None  # the chunk let go, not yet marked written (its row id)
        self._ahead: tuple[float, int] | None = None  # reserved slot for the next chunk

    def __enter__(self) -> SendPacer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._out is not None:
            throttle_sent(chunk_id=self._out, at=time.time())
            self._out = None
        self._ahead = None

    def _reserve(self, count: int) -> float:
        return throttle_reserve(sender=self.sender, count=count, catch_up=CATCH_UP)

    def wait(self, count: int) -> None:
        """Block until `count` messages may go out for the sender; call sent() once their
        requests are written."""
        if self.sender.mps <= 0:
            return
        ahead, self._ahead = self._ahead, None
        start = ahead[0] if ahead is not None and ahead[1] >= count else self._reserve(count)
        _wait_until(start, self.meanwhile)
        # The slot paces the sender; the release (checked against every worker's last
        # second) is what keeps it within the limit, whatever stalls made slots run late.
        while True:
            chunk_id, when = throttle_release(sender=self.sender, count=count, margin=self.margin)
            if chunk_id is not None:
                self._out = chunk_id
                return
            _wait_until(when, self.meanwhile)

    def sent(self, at: float, *, next_count: int = 0) -> None:
        """The requests wait() let go were all written by `at`. With `next_count`, the next
        chunk's slot is reserved now: its wait then covers the time the reservation takes,
        which a busy database sometimes stretches to milliseconds."""
        if self.sender.mps <= 0:
            return
        if self._out is not None:
            throttle_sent(chunk_id=self._out, at=at)
            self._out = None
        if next_count:
            self._ahead = (self._reserve(next_count), next_count)
