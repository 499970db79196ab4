"""Work a lost task leaves behind is found from the message rows and the project's own task
leases, never from a task backend's queue: the same on the database and the RQ backends."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from django_tasks.signals import task_enqueued

from schoolsms import testing
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tasks import (
    broadcast_dispatch_task,
    broadcast_send_task,
    pipeline_sweep,
)
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, run_worker

pytestmark = pytest.mark.django_db

LEASE = 60


@pytest.fixture
def org(org: Any, settings: Any) -> Any:
    settings.SCHOOLSMS_SEND_LEASE = LEASE
    org.sender.mps = 0
    org.sender.save()
    for i in range(3):
        testing.create_contact(org, f"c{i}", [f"+1217555010{i}"], consent="opted_in")
    return org


@contextmanager
def pipeline_only() -> Iterator[Counter[str]]:
    """Counts the tasks enqueued meanwhile (by name), and fails any statement that reads the
    database task backend's table (enqueueing on that backend inserts into it: allowed)."""
    table = apps.get_model("django_tasks_database", "DBTaskResult")._meta.db_table
    enqueued: Counter[str] = Counter()

    def count(sender: Any, task_result: Any, **kwargs: Any) -> None:
        enqueued[task_result.task.name] += 1

    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if table in sql and not sql.lstrip().upper().startswith("INSERT"):
            raise AssertionError(f"the pipeline read the task backend's table: {sql[:200]}")
        return execute(sql, params, many, context)

    task_enqueued.connect(count)
    try:
        with connection.execute_wrapper(refuse):
            yield enqueued
    finally:
        task_enqueued.disconnect(count)


def _assert_sent_once(broadcast: Broadcast) -> None:
    rows = Message.objects.filter(broadcast=broadcast)
    assert sorted(rows.values_list("result", flat=True)) == ["sent"] * 3
    assert not rows.filter(delivered_at__isnull=True).exists()
    assert [m.attempts for m in rows] == [1, 1, 1]
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE


def test_sending_restarts_only_once_no_task_looks_after_it(org: Any) -> None:
    broadcast = make_broadcast(org, enqueue=False)
    with pipeline_only() as enqueued:
        broadcast_dispatch_task.call(broadcast.pk)  # fans out, enqueues a send task
        assert enqueued == {"broadcast_send_task": 1}
        pipeline_sweep()  # that task waits in the queue: nothing to restart
        assert enqueued == {"broadcast_send_task": 1}
        # The task is lost (a queue emptied, say) and its lease runs out: sending restarts.
        pipeline_sweep(now=timezone.now() + dt.timedelta(seconds=LEASE + 1))
        assert enqueued == {"broadcast_send_task": 2}
    run_worker()
    _assert_sent_once(broadcast)


def test_a_dispatch_lost_mid_fan_out_is_dispatched_again_once_its_lease_runs_out(
    org: Any,
) -> None:
    broadcast = make_broadcast(org)  # its dispatch task is queued
    # As if that task had started (Sending) and its worker had died before the fan-out.
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    with pipeline_only() as enqueued:
        pipeline_sweep()
        assert not enqueued
        pipeline_sweep(now=timezone.now() + dt.timedelta(seconds=LEASE + 1))
        assert enqueued == {"broadcast_dispatch_task": 1}
    run_worker()
    _assert_sent_once(broadcast)


def test_a_message_sent_after_the_callbacks_task_started_gets_its_receipt_at_once(
    org: Any, settings: Any
) -> None:
    # Receipts must come from a callbacks task: the reconciler would step in after an hour.
    settings.SCHOOLSMS_SEND_LEASE = 3600
    first = make_broadcast(org)
    run_worker(within=30)  # sent, and a callbacks task started and applied the receipts
    _assert_sent_once(first)
    second = make_broadcast(org, enqueue=False)
    with pipeline_only() as enqueued:
        broadcast_dispatch_task.call(second.pk)
        broadcast_send_task.call(second.pk)  # the carrier accepts them: receipts to follow
        assert enqueued["simulator_callbacks_task"] == 1
    run_worker(within=30)
    _assert_sent_once(second)
