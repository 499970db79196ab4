"""The worker as a real process: killed mid-broadcast and restarted, several at once on
PostgreSQL, and `--until-idle`. Also the reconciler that makes a restart safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from schoolsms import testing
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.carriers.simulator.transport import SimulatorGateway
from schoolsms.messaging.gateway import OutboundMessage
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.reconcile import stuck_reconcile
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast

SCHOOLSMS = str(Path(sys.executable).with_name("schoolsms"))


def _database_url() -> str:
    """The test database, for worker processes (they read DATABASE_URL like production)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SCHOOLSMS_SIMULATOR_SCENARIO": "",
        "SCHOOLSMS_SIMULATOR_CALLBACK_DELAY": "0",
        "SCHOOLSMS_RETRY_BASE_DELAY": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _audience(org: Any, count: int, *, mps: int) -> None:
    org.sender.mps = mps
    org.sender.save()
    with transaction.atomic():
        for i in range(count):
            testing.create_contact(org, f"c{i}", [f"+1217555{i:04d}"], consent="opted_in")


def _wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _assert_every_row_sent_once(broadcast: Broadcast, count: int) -> None:
    results = Counter(Message.objects.filter(broadcast=broadcast).values_list("result", flat=True))
    assert results == {"sent": count}
    assert not Message.objects.filter(broadcast=broadcast, delivered_at__isnull=True).exists()
    per_number = Counter(
        SimulatedMessage.objects.filter(message_ref__isnull=False).values_list("to", flat=True)
    )
    assert len(per_number) == count
    assert max(per_number.values()) == 1, "a number got the broadcast twice"
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_broadcast_leaves_nothing_lost_or_sent_twice() -> None:
    org = testing.create_org()
    count = 100
    _audience(org, count, mps=40)  # about two and a half seconds of sending
    broadcast = make_broadcast(org)
    env = _env(SCHOOLSMS_SEND_LEASE="1")
    first = subprocess.Popen([SCHOOLSMS, "worker", "--interval", "0.05"], env=env)
    try:
        _wait_for(
            lambda: (
                Message.objects.filter(broadcast=broadcast, result__in=["sending", "sent"]).count()
                >= 30
            ),
            timeout=30,
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    left = Message.objects.filter(broadcast=broadcast, result__in=["not_sent_yet", "sending"])
    assert left.count() > 0, "the worker was killed too late to test anything"
    restarted = subprocess.run(
        [SCHOOLSMS, "worker", "--until-idle"], env=env, timeout=90, capture_output=True, text=True
    )
    assert restarted.returncode == 0, restarted.stderr
    _assert_every_row_sent_once(broadcast, count)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_fan_out_leaves_nothing_lost_or_sent_twice(settings: Any) -> None:
    # One lease length for the whole deployment: this process enqueues the fan-out.
    settings.SCHOOLSMS_SEND_LEASE = 1
    org = testing.create_org()
    count = 1500
    # Sixty chunks of 25, with sending taking turns with them (database backend) or after
    # them (RQ takes the fan-out's queue first): the kill lands mid fan-out either way.
    _audience(org, count, mps=0)
    broadcast = make_broadcast(org)
    env = _env(SCHOOLSMS_SEND_LEASE="1", SCHOOLSMS_FAN_OUT_CHUNK="25")
    first = subprocess.Popen([SCHOOLSMS, "worker", "--interval", "0.05"], env=env)
    try:
        _wait_for(lambda: Message.objects.filter(broadcast=broadcast).count() >= 50, timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    broadcast.refresh_from_db()
    assert broadcast.fanned_out_at is None, "the worker was killed too late to test anything"
    assert broadcast.status == BroadcastStatus.SENDING
    restarted = subprocess.run(
        [SCHOOLSMS, "worker", "--until-idle"], env=env, timeout=90, capture_output=True, text=True
    )
    assert restarted.returncode == 0, restarted.stderr
    _assert_every_row_sent_once(broadcast, count)
    per_contact = Counter(
        Message.objects.filter(broadcast=broadcast).values_list("contact_id", flat=True)
    )
    assert len(per_contact) == count and max(per_contact.values()) == 1


@pytest.mark.django_db(transaction=True)
def test_worker_until_idle_returns_with_final_results() -> None:
    org = testing.create_org()
    _audience(org, 5, mps=0)
    broadcast = make_broadcast(org)
    done = subprocess.run(
        [SCHOOLSMS, "worker", "--until-idle"],
        env=_env(),
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    _assert_every_row_sent_once(broadcast, 5)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_several_workers_share_a_broadcast_on_postgresql(settings: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; concurrency is tested on PostgreSQL")
    org = testing.create_org()
    count = 600
    _audience(org, count, mps=0)
    # Fan-out in chunks of 50 contacts too, written by whichever worker is free.
    env = _env(
        SCHOOLSMS_SEND_BATCH_SIZE="20", SCHOOLSMS_SEND_TASKS="6", SCHOOLSMS_FAN_OUT_CHUNK="50"
    )
    broadcast = make_broadcast(org)
    workers = [
        subprocess.Popen([SCHOOLSMS, "worker", "--until-idle", "--worker-id", f"w{i}"], env=env)
        for i in range(4)
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    _assert_every_row_sent_once(broadcast, count)
    from django_tasks_db.models import DBTaskResult

    ran_by = Counter(
        ids[-1]
        for ids in DBTaskResult.objects.filter(task_path__endswith="broadcast_send_task")
        .exclude(worker_ids=[])
        .values_list("worker_ids", flat=True)
    )
    assert len(ran_by) > 1, "only one worker did any sending"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_several_workers_together_stay_within_the_senders_limit(settings: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; concurrency is tested on PostgreSQL")
    org = testing.create_org()
    count, mps = 240, 60
    _audience(org, count, mps=mps)
    # A slow carrier (50 ms a request): chunks stay out, in flight, while other workers wait.
    env = _env(
        SCHOOLSMS_SEND_BATCH_SIZE="20", SCHOOLSMS_SEND_TASKS="3", SCHOOLSMS_SIMULATOR_LATENCY="0.05"
    )
    broadcast = make_broadcast(org)
    workers = [
        subprocess.Popen([SCHOOLSMS, "worker", "--until-idle", "--worker-id", f"w{i}"], env=env)
        for i in range(3)
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    _assert_every_row_sent_once(broadcast, count)
    stamps = sorted(
        t.timestamp()
        for t in SimulatedMessage.objects.filter(message_ref__isnull=False).values_list(
            "created_at", flat=True
        )
    )
    # The carrier's clock: the most messages it got in any one second, from any worker.
    most, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    assert most <= mps
    assert stamps[-1] - stamps[0] >= (count - mps) / mps  # the limit held them back


def _claimed_row(org: Any, *, minutes_ago: int) -> Message:
    testing.create_contact(org, "x", ["+12175550199"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=BroadcastStatus.SENDING, dispatched_at=timezone.now(), fanned_out_at=timezone.now()
    )
    then = timezone.now() - timezone.timedelta(minutes=minutes_ago)
    return Message.objects.create(
        broadcast=broadcast,
        organization=org,
        sender=org.sender,
        phone="+12175550199",
        result="sending",
        attempts=1,
        claimed_at=then,
        created_at=then,
        updated_at=then,
    )


@pytest.mark.django_db
def test_reconcile_takes_the_carriers_word_when_it_has_the_message(org: Any) -> None:
    message = _claimed_row(org, minutes_ago=10)
    # The carrier accepted it, but the worker died before recording the answer.
    [outcome] = SimulatorGateway(org.sender).send_batch(
        [OutboundMessage(message.pk, message.phone or "", org.sender.code, "hi")]
    )
    SimulatedMessage.objects.filter(sid=outcome.carrier_id).update(status="delivered")
    stuck_reconcile()
    message.refresh_from_db()
    assert (message.result, message.carrier_message_id) == ("sent", outcome.carrier_id)
    assert message.delivered_at is not None
    assert SimulatedMessage.objects.filter(message_ref=message.pk).count() == 1


@pytest.mark.django_db
def test_reconcile_resends_only_what_the_carrier_never_got(org: Any) -> None:
    message = _claimed_row(org, minutes_ago=10)
    stuck_reconcile()
    message.refresh_from_db()
    assert (message.result, message.attempts, message.claimed_at) == ("not_sent_yet", 0, None)


@pytest.mark.django_db
def test_reconcile_leaves_fresh_claims_alone(org: Any) -> None:
    message = _claimed_row(org, minutes_ago=0)
    stuck_reconcile()
    message.refresh_from_db()
    assert message.result == "sending"


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_worker_cleanly() -> None:
    worker = subprocess.Popen(
        [SCHOOLSMS, "worker"], env=_env(LOG_LEVEL="INFO"), stderr=subprocess.PIPE, text=True
    )
    try:
        assert worker.stderr is not None
        for line in worker.stderr:  # wait until its signal handlers are in place
            if "started" in line:
                break
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
