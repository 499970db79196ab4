"""Heartbeats and periodic duties, written by every worker (several machines may share them)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from schoolsms.operations.models import DutyRun, WorkerHeartbeat

logger = logging.getLogger(__name__)
FORGET_AFTER = dt.timedelta(days=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_beat(*, worker: str, started_at: dt.datetime, now: dt.datetime | None = None) -> None:
    """Record that `worker` is alive; forget workers silent for a day."""
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker=worker).update(seen_at=now)
    if not updated:
        try:
            with transaction.atomic():
                WorkerHeartbeat.objects.create(worker=worker, started_at=started_at, seen_at=now)
        except IntegrityError:
            WorkerHeartbeat.objects.filter(worker=worker).update(seen_at=now)
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


@dataclass(frozen=True)
class Duty:
    name: str
    every: dt.timedelta
    run: Callable[[], str]  # returns a one-line outcome for the record
    enabled: Callable[[], bool] = lambda: True


_DUTIES: dict[str, Duty] = {}


def duty_register(duty: Duty) -> None:
    """Apps above register their periodic work here (in AppConfig.ready); workers run it."""
    _DUTIES[duty.name] = duty


def duties_run_due(*, now: dt.datetime | None = None) -> list[str]:
    """Run every enabled duty whose period has passed. The start is claimed with a
    compare-and-set on DutyRun, so among many workers exactly one runs each duty per period."""
    now = now or timezone.now()
    ran = []
    for duty in _DUTIES.values():
        if not duty.enabled():
            continue
        record, _ = DutyRun.objects.get_or_create(
            name=duty.name, defaults={"last_started_at": now - duty.every}
        )
        if record.last_started_at > now - duty.every:
            continue
        claimed = DutyRun.objects.filter(
            name=duty.name, last_started_at=record.last_started_at
        ).update(last_started_at=now)
        if not claimed:
            continue
        try:
            outcome = duty.run()
        except Exception as exc:
            logger.exception("duty %s failed", duty.name)
            outcome = f"failed: {type(exc).__name__}"
        DutyRun.objects.filter(name=duty.name).update(last_outcome=outcome[:1000])
        ran.append(duty.name)
    return ran
