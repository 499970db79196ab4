"""Builders for the pipeline tests: broadcasts made directly as rows, and the worker run
in-process until it is idle."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tasks import broadcast_dispatch_enqueue
from schoolsms.messaging.workers.database import PipelineWorker
from schoolsms.messaging.workers.rq import RQPipelineWorker


def make_broadcast(
    org: Organization,
    *,
    text: str = "School closes at noon today.",
    emergency: bool = False,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
    enqueue: bool = True,
) -> Broadcast:
    broadcast = Broadcast.objects.create(
        organization=org,
        name="Test broadcast",
        text=text,
        emergency=emergency,
        audience_roles=list(roles),
        audience_schools=list(schools),
        audience_external_ids=list(external_ids),
        status=BroadcastStatus.SCHEDULED,
    )
    if enqueue:
        broadcast_dispatch_enqueue(broadcast.pk)
    return broadcast


def run_worker(*, horizon: float = 30.0, within: float | None = None) -> None:
    """The real worker loop of the configured task backend, in this process (no signal
    handlers), until idle; with `within`, fail when it is not idle after that many seconds."""
    worker: RQPipelineWorker | PipelineWorker
    if settings.SCHOOLSMS_TASK_BACKEND == "rq":
        worker = RQPipelineWorker(
            until_idle=True,
            horizon=horizon,
            sweep_every=1.0,
            interval=0.0,
            worker_id="test-worker",
            manage_connections=False,
        )
    else:
        worker = PipelineWorker(
            until_idle=True,
            horizon=horizon,
            sweep_every=1.0,
            manage_connections=False,
            queue_names=["*"],
            interval=0.0,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        )
    if within is None:
        worker.run()
        return
    done = threading.Event()

    def stop() -> None:
        if not done.is_set():
            worker.running = False

    timer = threading.Timer(within, stop)
    timer.start()
    try:
        worker.run()
    finally:
        done.set()
        timer.cancel()
    assert worker.running, f"the worker still had work after {within} s"


def outcomes(broadcast: Broadcast) -> dict[str | None, tuple[str, str]]:
    """phone -> (result, reason) for every row of the broadcast (phone None: no number)."""
    return {m.phone: (m.result, m.reason) for m in Message.objects.filter(broadcast=broadcast)}


def rows(broadcast: Broadcast) -> list[dict[str, Any]]:
    return list(
        Message.objects.filter(broadcast=broadcast)
        .order_by("id")
        .values("contact__external_id", "phone", "result", "reason")
    )
