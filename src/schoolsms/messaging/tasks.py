"""Background tasks of the delivery pipeline (the Django Tasks API, whatever backend carries
them), and the sweep the worker runs between tasks so work orphaned by a dead worker is picked
up again.

Which broadcasts have a task looking after them is kept in the project's own table, as task
leases (operations.leases), never read from a backend's queue: a lease is taken when a task
is enqueued and renewed when it starts, and lasts SCHOOLSMS_SEND_LEASE seconds past the
task's start (or its scheduled time); the sweep restarts work whose lease ran out."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from schoolsms.messaging.dispatch import fan_out_step
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Message
from schoolsms.messaging.pipeline import broadcast_complete_if_done, send_round
from schoolsms.messaging.reconcile import stuck_reconcile
from schoolsms.messaging.selectors import fan_out_running, next_attempt_at, runnable_exists
from schoolsms.operations.leases import lease_extend, leases_held, leases_release

logger = logging.getLogger(__name__)

# How soon a send task that caught up with a fan-out still writing rows looks again.
FAN_OUT_WAIT = dt.timedelta(seconds=0.1)


def _lease(kind: str, broadcast_id: int) -> str:
    return f"{kind}:{broadcast_id}"


def _looked_after(key: str, at: dt.datetime | None = None) -> None:
    """The work under `key` has a task until SCHOOLSMS_SEND_LEASE past `at` (default now)."""
    now = timezone.now()
    start = at if at is not None and at > now else now
    lease_extend(key=key, until=start + dt.timedelta(seconds=settings.SCHOOLSMS_SEND_LEASE))


def _enqueue(task: Task[[int], Any], kind: str, broadcast_id: int, at: dt.datetime | None) -> None:
    """Enqueue a broadcast's task (at `at`, or now), holding the lease of its work."""
    _looked_after(_lease(kind, broadcast_id), at)
    if at is not None and at > timezone.now():
        task.using(run_after=at).enqueue(broadcast_id)
    else:
        task.enqueue(broadcast_id)


def broadcast_dispatch_enqueue(broadcast_id: int, *, at: dt.datetime | None = None) -> None:
    """Queue the broadcast's dispatch (at `at`, or now)."""
    _enqueue(broadcast_dispatch_task, "dispatch", broadcast_id, at)


def broadcast_send_enqueue(broadcast_id: int, *, at: dt.datetime | None = None) -> None:
    """Queue a send task for the broadcast (at `at`, or now)."""
    _enqueue(broadcast_send_task, "send", broadcast_id, at)


@task(queue_name="default")
def broadcast_dispatch_task(broadcast_id: int) -> dict[str, Any]:
    """Scheduled/Sending -> Sending, then the next chunk of the fan-out. After the first chunk
    the send tasks start; until the last, this task runs again for the next chunk, queued
    after the send tasks, so one worker takes turns between sending and writing rows."""
    _looked_after(_lease("dispatch", broadcast_id))  # running: still looked after
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
            broadcast_send_enqueue(broadcast_id)
    if step.done:
        leases_release(keys=[_lease("dispatch", broadcast_id)])
        broadcast_complete_if_done(broadcast_id=broadcast_id)
    else:
        broadcast_dispatch_enqueue(broadcast_id)  # the next chunk, holding the lease on
    return {
        "broadcast": broadcast_id,
        "rows": step.created,
        "send_tasks": tasks,
        "fanned_out": step.done,
    }


@task(queue_name="send")
def broadcast_send_task(broadcast_id: int) -> dict[str, Any]:
    """Send for one time slice, then hand over to a fresh task (now, or when the next row
    waiting for a retry or for quiet hours to end becomes due). The broadcast's send lease
    is renewed as it starts, and released when it ends with nothing left to claim."""
    _looked_after(_lease("send", broadcast_id))
    report = send_round(broadcast_id=broadcast_id)
    now = timezone.now()
    wake: list[dt.datetime] = []
    if report.next_at is not None:
        # Rows wait (a retry, quiet hours); or nothing is claimable although something is
        # due: another worker holds it, look again shortly.
        wake.append(report.next_at if report.next_at > now else now + dt.timedelta(seconds=1))
    if fan_out_running(broadcast_id=broadcast_id):
        # Sending caught up with the fan-out: the next chunk's rows come soon, whatever the
        # rows already written wait for (quiet hours must not hold the later chunks' rows).
        wake.append(now + FAN_OUT_WAIT)
    if report.more_now:
        broadcast_send_enqueue(broadcast_id)
    elif wake:
        broadcast_send_enqueue(broadcast_id, at=min(wake))
    else:
        # Nothing left to claim: a row that becomes runnable later (a retry) gets a task when
        # it is scheduled, or else from the sweep at once.
        leases_release(keys=[_lease("send", broadcast_id)])
    broadcast_complete_if_done(broadcast_id=broadcast_id)
    return {"broadcast": broadcast_id, "claimed": report.claimed, **report.outcomes}


def _send_later(broadcast_id: int, at: dt.datetime) -> Callable[[], None]:
    def enqueue() -> None:
        broadcast_send_enqueue(broadcast_id, at=at)

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


def _looked_after_now(kind: str, broadcast_ids: Iterable[int], now: dt.datetime) -> set[int]:
    """Which of the broadcasts hold a live `kind` lease (a task waiting, or running in a live
    worker)."""
    held = leases_held(keys=[_lease(kind, b) for b in broadcast_ids], now=now)
    return {b for b in broadcast_ids if _lease(kind, b) in held}


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
    ids = [broadcast_id for broadcast_id, _ in going]
    dispatching = _looked_after_now("dispatch", ids, now)
    sending = _looked_after_now("send", ids, now)
    for broadcast_id, fanned_out_at in going:
        if fanned_out_at is None and broadcast_id not in dispatching:
            logger.warning("broadcast %s lost its fan-out task; resuming it", broadcast_id)
            broadcast_dispatch_enqueue(broadcast_id)
        if broadcast_id in sending:
            continue
        if runnable_exists(broadcast_id=broadcast_id, now=now):
            logger.warning("broadcast %s has rows to send and no task; restarting", broadcast_id)
            broadcast_send_enqueue(broadcast_id)
        elif (at := next_attempt_at(broadcast_id=broadcast_id)) is not None:
            broadcast_send_enqueue(broadcast_id, at=at)
        elif fanned_out_at is not None:
            broadcast_complete_if_done(broadcast_id=broadcast_id, now=now)
