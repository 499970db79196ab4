"""A worker process killed with SIGKILL while its creates are in flight to the fake Twilio:
after a restart every number got exactly one create and every row ends in its true result."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.carriers.twilio.models import HeldStatus
from schoolsms.carriers.twilio.tests.conftest import twilio_org
from schoolsms.carriers.twilio.tests.fake_twilio import FakeTwilio
from schoolsms.messaging.models import BroadcastStatus, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast

SCHOOLSMS = str(Path(sys.executable).with_name("schoolsms"))
COUNT = 80


def _wait_for(predicate: Any, timeout: float, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(step)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_create_leaves_nothing_lost_or_sent_twice(
    fake: FakeTwilio, public: str
) -> None:
    fake.callbacks = True
    fake.latency = 0.2  # creates in flight most of the time
    org = twilio_org(mps=40)
    phones = [f"+1217555{i:04d}" for i in range(COUNT)]
    for i, phone in enumerate(phones):
        testing.create_contact(org, f"c{i}", [phone], consent="opted_in")
    broadcast = make_broadcast(org)
    env = {
        **testing.subprocess_env(),
        "SCHOOLSMS_SEND_LEASE": "1",
        "SCHOOLSMS_RETRY_BASE_DELAY": "0",
        "LOG_LEVEL": "WARNING",
    }
    first = subprocess.Popen([SCHOOLSMS, "worker", "--interval", "0.05"], env=env)
    try:
        _wait_for(lambda: len(fake.creates) >= 20, timeout=60)
        # Kill it while Twilio is working on some of its creates: those messages are made,
        # and the worker never hears of them.
        _wait_for(lambda: fake.in_flight > 0, timeout=10, step=0.001)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    unanswered = Message.objects.filter(broadcast=broadcast, result__in=["sending", "not_sent_yet"])
    assert unanswered.exists(), "the worker was killed too late to test anything"
    restarted = subprocess.run(
        [SCHOOLSMS, "worker", "--until-idle"], env=env, timeout=120, capture_output=True, text=True
    )
    assert restarted.returncode == 0, restarted.stderr
    fake.wait_callbacks()

    # The messages made for creates the dead worker never heard back from were found by
    # listing the account's messages to their numbers, and adopted rather than sent again.
    assert any(m == "GET" and "To=" in p for m, p in fake.requests)
    creates = Counter(form["To"] for form in fake.creates)
    assert set(creates) == set(phones)
    assert max(creates.values()) == 1, "a number got the broadcast twice"
    rows = list(Message.objects.filter(broadcast=broadcast).values("result", "carrier_message_id"))
    assert Counter(r["result"] for r in rows) == {"sent": COUNT}
    assert {r["carrier_message_id"] for r in rows} == set(fake.messages)
    # Every delivery receipt landed, including those that came before their sid was known.
    _wait_for(
        lambda: (
            not Message.objects.filter(broadcast=broadcast, delivered_at=None).exists()
            and not HeldStatus.objects.exists()
        ),
        timeout=30,
    )
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE
