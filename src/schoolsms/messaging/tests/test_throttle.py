"""The shared messages-per-second limit and `schoolsms sender configure`."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from schoolsms.messaging import throttle
from schoolsms.messaging.models import SenderThrottle, ThrottleChunk
from schoolsms.messaging.throttle import (
    throttle_chunk,
    throttle_release,
    throttle_reserve,
    throttle_sent,
)

pytestmark = pytest.mark.django_db


def test_reserved_slots_never_overlap_and_never_bank_idle_time(org: Any) -> None:
    sender = org.sender
    sender.mps = 100
    sender.save()
    starts = [throttle_reserve(sender=sender, count=10, clock=1000.0) for _ in range(5)]
    assert starts == pytest.approx([1000.0, 1000.1, 1000.2, 1000.3, 1000.4])
    # Idle for a minute: the next slot is now, not a burst of the unused minute.
    assert throttle_reserve(sender=sender, count=10, clock=1060.0) == pytest.approx(1060.0)
    assert throttle_reserve(sender=sender, count=10, clock=1060.0) == pytest.approx(1060.1)


def test_a_missed_slot_is_made_up_only_briefly(org: Any) -> None:
    sender = org.sender
    sender.mps = 100
    sender.save()
    assert throttle_reserve(sender=sender, count=10, clock=1000.0) == pytest.approx(1000.0)
    # A stall of 50 ms: the missed slot (1000.1) is still used, so the sender catches up.
    assert throttle_reserve(sender=sender, count=10, clock=1000.15, catch_up=0.1) == pytest.approx(
        1000.1
    )
    # Behind by more than the catch-up allowance: start from now.
    assert throttle_reserve(sender=sender, count=10, clock=1000.5, catch_up=0.1) == pytest.approx(
        1000.5
    )


def test_a_chunk_goes_only_if_the_last_second_of_every_workers_chunks_leaves_room(
    org: Any,
) -> None:
    sender = org.sender
    sender.mps = 10
    sender.save()
    first, _ = throttle_release(sender=sender, count=4)
    second, _ = throttle_release(sender=sender, count=4)
    assert first is not None and second is not None
    # 8 are being written (another worker's, say): 2 more fit, 4 do not yet.
    refused, retry_at = throttle_release(sender=sender, count=4)
    assert refused is None and retry_at == pytest.approx(time.time(), abs=0.05)
    assert ThrottleChunk.objects.count() == 2  # a refusal writes nothing
    # Written 0.5 s and 0.2 s ago (answered or not, it does not matter): the 4 more may go
    # once the older is a second old.
    now = time.time()
    throttle_sent(chunk_id=first, at=now - 0.5)
    throttle_sent(chunk_id=second, at=now - 0.2)
    refused, retry_at = throttle_release(sender=sender, count=4)
    assert refused is None
    assert retry_at == pytest.approx(now + 0.5 + throttle.WINDOW_MARGIN, abs=1e-6)
    fits, _ = throttle_release(sender=sender, count=2)
    assert fits is not None
    # Written more than a second ago: no longer counted (and soon deleted).
    ThrottleChunk.objects.update(sent_at=time.time() - 3)
    assert throttle_release(sender=sender, count=10)[0] is not None
    assert ThrottleChunk.objects.count() == 1


def test_a_chunk_a_dead_worker_never_marked_written_counts_until_it_is_old(org: Any) -> None:
    """Let go and never marked written (the worker died mid-call): its requests may have
    reached the carrier at any moment since, so it counts for UNSENT_SECONDS."""
    sender = org.sender
    sender.mps = 10
    sender.save()
    dead = ThrottleChunk.objects.create(sender=sender, count=10, released_at=time.time() - 5)
    assert throttle_release(sender=sender, count=1)[0] is None
    ThrottleChunk.objects.filter(pk=dead.pk).update(
        released_at=time.time() - throttle.UNSENT_SECONDS - 1
    )
    assert throttle_release(sender=sender, count=10)[0] is not None


def test_wait_and_sent_record_each_chunk_from_release_to_written(org: Any) -> None:
    sender = org.sender
    sender.mps = 1000
    sender.save()
    started = time.time()
    with throttle.SendPacer(sender) as pacer:
        pacer.wait(20)
        [chunk] = ThrottleChunk.objects.all()
        assert chunk.sent_at is None and chunk.released_at >= started
        pacer.sent(chunk.released_at + 0.01, next_count=20)
        chunk.refresh_from_db()
        assert chunk.sent_at == pytest.approx(chunk.released_at + 0.01)
        # The next chunk's slot is already reserved (two chunks of 20 at 1000/s: the pointer
        # is at least 0.04 s on); the next wait takes that slot instead of reserving again.
        pointer = SenderThrottle.objects.get(sender=sender).next_slot
        assert pointer >= started + 0.04
        pacer.wait(20)
    assert SenderThrottle.objects.get(sender=sender).next_slot == pointer


def test_a_chunk_whose_start_raised_is_marked_written_when_the_pacer_is_left(org: Any) -> None:
    sender = org.sender
    sender.mps = 1000
    sender.save()
    with pytest.raises(ConnectionError), throttle.SendPacer(sender) as pacer:
        pacer.wait(20)
        raise ConnectionError("the carrier hung up")
    [chunk] = ThrottleChunk.objects.all()
    # Marked, so other workers stop counting it a second from now, not UNSENT_SECONDS.
    assert chunk.sent_at is not None


def test_no_limit_reserves_nothing(org: Any) -> None:
    org.sender.mps = 0
    assert throttle_reserve(sender=org.sender, count=500, clock=5.0) == 0.0


def test_chunks_are_a_fiftieth_of_a_second_of_messages() -> None:
    assert throttle_chunk(100, 500) == 2
    assert throttle_chunk(1000, 500) == 20
    # Gateways that send a chunk's requests at once: up to a fifth of a second's worth.
    assert throttle_chunk(100, 500, concurrency=50) == 20
    assert throttle_chunk(1000, 500, concurrency=64) == 64
    assert throttle_chunk(3, 500) == 1
    assert throttle_chunk(0, 500) == 500
    assert throttle_chunk(100_000, 500) == 500


def test_sender_configure_sets_the_rate(org: Any) -> None:
    out = StringIO()
    call_command("sender", "configure", "--sender", org.sender.code, "--mps", "12", stdout=out)
    org.sender.refresh_from_db()
    assert org.sender.mps == 12
    assert "12 messages/second" in out.getvalue()
    call_command("sender", "configure", "--sender", org.sender.code, "--mps", "0", stdout=out)
    org.sender.refresh_from_db()
    assert org.sender.mps == 0


def test_sender_configure_refuses_bad_input(org: Any) -> None:
    with pytest.raises(CommandError, match="--sender 99999: no such sender"):
        call_command("sender", "configure", "--sender", "99999", "--mps", "5")
    with pytest.raises(CommandError, match="--mps must be 0"):
        call_command("sender", "configure", "--sender", org.sender.code, "--mps", "-1")
    with pytest.raises(CommandError, match="--gateway nope"):
        call_command("sender", "configure", "--sender", org.sender.code, "--gateway", "nope")
