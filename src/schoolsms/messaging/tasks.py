"""Background tasks of the delivery pipeline (Django Tasks, database backend), and the sweep
the worker runs between tasks so work orphaned by a dead worker is picked up again."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from schoolsms.messaging.dispatch import fan_out_step
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Message
from schoolsms.messaging.pipeline import broadcast_complete_if_done, send_round
from schoolsms.messaging.reconcile import stuck_reconcile
from schoolsms.messaging.selectors import fan_out_running, next_attempt_at, runnable_exists

logger = logging.getLogger(__name__)

# How soon a send task that caught up with a fan-out still writing rows looks again.
FAN_OUT_WAIT = dt.timedelta(seconds=0.5)


@task(queue_name="default")
def broadcast_dispatch_task(broadcast_id: int) -> dict[str, Any]:
    """Scheduled/Sending -> Sending, then the next chunk of the fan-out. After the first chunk
    the send tasks start; until the last, this task runs again for the next chunk, queued
    after the send tasks, so one worker takes turns between sending and writing rows."""
    moved = Broadcast.objects.filter(
        pk=broadcast_id, status__in=[BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING]
    ).update(status=BroadcastStatus.SENDING)
    if not moved:
        return {"broadcast": broadcast_id, "skipped": "not scheduled or sending"}
    step = fan_out_step(broadcast_id=broadcast_id)
    if step is None:
        return {"broadcast": broadcast_id, "skipped": "fanned out already"}
    tasks = 0
    if step.first:
        # Several send tasks, so several workers can share a big broadcast; a small one
        # written in one chunk gets as many as its rows fill.
        tasks = settings.SCHOOLSMS_SEND_TASKS
        if step.done:
            runnable = Message.objects.filter(
                broadcast_id=broadcast_id, result=DeliveryResult.NOT_SENT_YET
            ).count()
            tasks = min(tasks, -(-runnable // settings.SCHOOLSMS_SEND_BATCH_SIZE))
        for _ in range(tasks):
            broadcast_send_task.enqueue(broadcast_id)
    if step.done:
        broadcast_complete_if_done(broadcast_id=broadcast_id)
    else:
        broadcast_dispatch_task.enqueue(broadcast_id)
    return {
        "broadcast": broadcast_id,
        "rows": step.created,
        "send_tasks": tasks,
        "fanned_out": step.done,
    }


@task(queue_name="send")
def broadcast_send_task(broadcast_id: int) -> dict[str, Any]:
    """Send for one time slice, then hand over to a fresh task (now, or when the next row
    waiting for a retry or for quiet hours to end becomes due)."""
    report = send_round(broadcast_id=broadcast_id)
    now = timezone.now()
    if report.more_now:
        broadcast_send_task.enqueue(broadcast_id)
    elif report.next_at is not None:
        # Nothing claimable although something is due: another worker holds it; look later.
        at = report.next_at if report.next_at > now else now + dt.timedelta(seconds=1)
        broadcast_send_task.using(run_after=at).enqueue(broadcast_id)
    elif fan_out_running(broadcast_id=broadcast_id):
        # Sending caught up with the fan-out: the next chunk's rows come soon.
        broadcast_send_task.using(run_after=now + FAN_OUT_WAIT).enqueue(broadcast_id)
    broadcast_complete_if_done(broadcast_id=broadcast_id)
    return {"broadcast": broadcast_id, "claimed": report.claimed, **report.outcomes}


def _send_later(broadcast_id: int, at: dt.datetime) -> Callable[[], None]:
    def enqueue() -> None:
        broadcast_send_task.using(run_after=at if at > timezone.now() else None).enqueue(
            broadcast_id
        )

    return enqueue


def broadcast_follow_up(
    *, broadcast_ids: Iterable[int], retries: Mapping[int, dt.datetime] | None = None
) -> None:
    """After receipts or reconciliation: schedule the retries, complete what is done."""
    retries = retries or {}
    for broadcast_id in sorted(set(broadcast_ids) | set(retries)):
        if broadcast_id in retries:
            transaction.on_commit(_send_later(broadcast_id, retries[broadcast_id]))
        broadcast_complete_if_done(broadcast_id=broadcast_id)


def _pending(task_path: str, *, now: dt.datetime) -> set[int]:
    """Broadcasts that already have this task waiting, or running in a live worker."""
    lease = dt.timedelta(seconds=settings.SCHOOLSMS_SEND_LEASE)
    rows = DBTaskResult.objects.filter(task_path=task_path).filter(
        status="READY"
    ) | DBTaskResult.objects.filter(
        task_path=task_path, status="RUNNING", started_at__gte=now - lease
    )
    found = set()
    for args_kwargs in rows.values_list("args_kwargs", flat=True):
        args = args_kwargs.get("args") or list(args_kwargs.get("kwargs", {}).values())
        if args:
            found.add(int(args[0]))
    return found


def pipeline_sweep(*, now: dt.datetime | None = None) -> None:
    """Re-attach work that lost its task (a worker killed mid-task): reconcile old claims,
    resume fan-outs that stopped, restart sending where rows wait with no task."""
    now = now or timezone.now()
    report = stuck_reconcile(now=now)
    broadcast_follow_up(broadcast_ids=report.broadcasts, retries=report.retries)
    going = list(
        Broadcast.objects.filter(status=BroadcastStatus.SENDING).values_list("pk", "fanned_out_at")
    )
    if not going:
        return
    dispatching = _pending(broadcast_dispatch_task.module_path, now=now)
    sending = _pending(broadcast_send_task.module_path, now=now)
    for broadcast_id, fanned_out_at in going:
        if fanned_out_at is None and broadcast_id not in dispatching:
            logger.warning("broadcast %s lost its fan-out task; resuming it", broadcast_id)
            broadcast_dispatch_task.enqueue(broadcast_id)
        if broadcast_id in sending:
            continue
        if runnable_exists(broadcast_id=broadcast_id, now=now):
            logger.warning("broadcast %s has rows to send and no task; restarting", broadcast_id)
            broadcast_send_task.enqueue(broadcast_id)
        elif (at := next_attempt_at(broadcast_id=broadcast_id)) is not None:
            broadcast_send_task.using(run_after=at).enqueue(broadcast_id)
        elif fanned_out_at is not None:
            broadcast_complete_if_done(broadcast_id=broadcast_id, now=now)
