"""The shared messages-per-second limit and `schoolsms sender configure`."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

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
