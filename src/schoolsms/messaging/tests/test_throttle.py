"""The shared messages-per-second limit and `schoolsms sender configure`."""

from __future__ import annotations

from collections import deque
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from schoolsms.messaging import throttle
from schoolsms.messaging.throttle import throttle_chunk, throttle_reserve

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


def test_one_process_never_sends_more_than_the_limit_in_a_second(org: Any) -> None:
    sender = org.sender
    sender.mps = 10
    sender.save()
    throttle._RECENT.pop(sender.pk, None)
    # Chunks of 4 came back at 100.0, 100.2 and 100.4: a fourth chunk of 4 would make 16 in
    # a second, so it waits until the first chunk is a second old; 2 more fit at once.
    throttle._RECENT[sender.pk] = deque([(100.0, 4), (100.2, 4), (100.4, 4)])
    assert throttle._window_floor(sender, 4, 100.5) == pytest.approx(101.2 + throttle.WINDOW_MARGIN)
    throttle._RECENT[sender.pk] = deque([(100.0, 4), (100.2, 4)])
    assert throttle._window_floor(sender, 2, 100.5) == 0.0
    # Chunks older than a second no longer count.
    assert throttle._window_floor(sender, 10, 101.3) == 0.0
    throttle._RECENT.pop(sender.pk, None)


def test_no_limit_reserves_nothing(org: Any) -> None:
    org.sender.mps = 0
    assert throttle_reserve(sender=org.sender, count=500, clock=5.0) == 0.0


def test_chunks_are_a_fiftieth_of_a_second_of_messages() -> None:
    assert throttle_chunk(100, 500) == 2
    assert throttle_chunk(1000, 500) == 20
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
