"""What every worker does between tasks, whatever backend carries them."""

from __future__ import annotations

import time

from django.db.models import Q
from django.db.utils import OperationalError
from django.utils import timezone

from schoolsms.contacts.sync import roster_folders_check
from schoolsms.messaging.gateway import gateway_connections_busy, gateway_connections_keep
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Message
from schoolsms.messaging.selectors import runnable_exists
from schoolsms.messaging.tasks import pipeline_sweep
from schoolsms.operations.services import duties_run_due, heartbeat_beat, worker_name

HEARTBEAT_SECONDS = 10.0  # /healthz calls a worker silent for 60 s gone


def _locked(exc: OperationalError) -> bool:
    """SQLite's "database is locked": another writer holds it; try again next time."""
    return "locked" in str(exc).lower()


class BetweenTasks:
    """Heartbeat (every HEARTBEAT_SECONDS), periodic duties, and the sweep that re-attaches
    work whose task was lost (every `sweep_every` seconds, or when forced)."""

    def __init__(self, *, sweep_every: float) -> None:
        self.sweep_every = sweep_every
        self._last_sweep = 0.0
        self._last_beat = 0.0
        self._started_at = timezone.now()
        self._name = worker_name()

    def beat(self) -> None:
        if time.monotonic() - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = time.monotonic()
        try:
            heartbeat_beat(worker=self._name, started_at=self._started_at)
            duties_run_due()
        except OperationalError as exc:
            if not _locked(exc):
                raise

    def __call__(self, *, force_sweep: bool = False) -> None:
        self.beat()
        if force_sweep or time.monotonic() - self._last_sweep >= self.sweep_every:
            self._last_sweep = time.monotonic()
            try:
                # Connections of senders configured (or changed) meanwhile open here (SMPP).
                gateway_connections_keep()
                pipeline_sweep()
                roster_folders_check()  # a district's nightly roster, dropped in its folder
            except OperationalError as exc:
                if not _locked(exc):
                    raise


def messages_settled() -> bool:
    """No row awaits a carrier's answer (a receipt, or reconciliation of a dead worker's
    claim), no broadcast that is due waits to start or for its fan-out, and no broadcast going
    out has a row ready to send. With several workers, one may find the queue empty while
    another is starting a broadcast or sending: `--until-idle` must not stop then."""
    if Message.objects.filter(result=DeliveryResult.SENDING).exists():
        return False
    if gateway_connections_busy():  # a receipt or inbound text still being applied
        return False
    now = timezone.now()
    if Broadcast.objects.filter(
        Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=now), status=BroadcastStatus.SCHEDULED
    ).exists():
        return False  # due, and its start-up task may be running in another worker right now
    going_out = Broadcast.objects.filter(status=BroadcastStatus.SENDING)
    if going_out.filter(fanned_out_at__isnull=True).exists():
        return False
    # Rows ready to send whose task another worker holds (or that the sweep will restart).
    return not any(
        runnable_exists(broadcast_id=pk, now=now) for pk in going_out.values_list("pk", flat=True)
    )
