"""`schoolsms worker [--until-idle]`: runs every background task (all queues) of the database
task backend, and re-attaches work a dead worker left behind."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.db.models import Q
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from schoolsms.messaging.gateway import (
    gateway_connections_busy,
    gateway_connections_close,
    gateway_connections_keep,
)
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Message
from schoolsms.messaging.tasks import pipeline_sweep
from schoolsms.operations.services import duties_run_due, heartbeat_beat, worker_name

logger = logging.getLogger("schoolsms.worker")
HEARTBEAT_SECONDS = 10.0  # /healthz calls a worker silent for 60 s gone


class PipelineWorker(Worker):
    """django_tasks_db's worker loop plus a periodic sweep, and an optional exit when idle."""

    def __init__(
        self,
        *,
        until_idle: bool,
        horizon: float,
        sweep_every: float,
        manage_connections: bool = True,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        # Off when run inside a test's transaction, whose connection must stay open.
        self.manage_connections = manage_connections
        self.until_idle = until_idle
        self.horizon = dt.timedelta(seconds=horizon)
        self.sweep_every = sweep_every
        self._last_sweep = 0.0
        self._last_beat = 0.0
        self._started_at = timezone.now()
        self._name = worker_name()

    def _beat(self) -> None:
        """Tell /healthz this worker is alive, and run the periodic duties that are due."""
        if time.monotonic() - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = time.monotonic()
        try:
            heartbeat_beat(worker=self._name, started_at=self._started_at)
            duties_run_due()
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise

    def _sweep(self, *, force: bool = False) -> None:
        self._beat()
        if force or time.monotonic() - self._last_sweep >= self.sweep_every:
            self._last_sweep = time.monotonic()
            try:
                # Binds of senders configured (or changed) meanwhile are opened here.
                gateway_connections_keep()
                pipeline_sweep()
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise

    def _next_task(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        with exclusive_transaction(tasks.db):
            try:
                found = tasks.get_locked()
            except OperationalError as exc:
                if is_locked_database_exception(exc):
                    return None
                raise
            if found is not None:
                found.claim(self.worker_id)
            return found

    def idle(self) -> bool:
        """Nothing runnable or scheduled soon (within the horizon), and no row awaiting a
        carrier's answer (a receipt, or reconciliation of a dead worker's claim)."""
        now = timezone.now()
        soon = DBTaskResult.objects.filter(backend_name=self.backend_name, status="READY").filter(
            Q(run_after=get_date_max()) | Q(run_after__lte=now + self.horizon)
        )
        if soon.exists():
            return False
        if Message.objects.filter(result=DeliveryResult.SENDING).exists():
            return False
        if gateway_connections_busy():
            return False
        return not Broadcast.objects.filter(
            status=BroadcastStatus.SENDING, dispatched_at__isnull=True
        ).exists()

    def run(self) -> None:
        try:
            self._run()
        finally:
            gateway_connections_close()

    def _run(self) -> None:
        logger.info("worker %s started (all queues)", self.worker_id)
        # Everything loaded so far (Django, the apps) lives as long as the process: keep the
        # collector from walking it again and again, which paused sending for milliseconds
        # at a time (jitter on a throttled sender's rate, and time lost when sending fast).
        gc.freeze()
        self._sweep(force=True)
        while self.running:
            if self.manage_connections:
                close_old_connections()
            found = self._next_task()
            if found is not None:
                self.run_task(found)
                self._sweep()
                continue
            self._sweep(force=self.until_idle)
            if self.until_idle and self.idle():
                later = DBTaskResult.objects.filter(
                    backend_name=self.backend_name, status="READY"
                ).count()
                if later:
                    logger.info(
                        "%d task(s) are scheduled later; a long-running worker runs them", later
                    )
                logger.info("worker %s: no work left, exiting", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self.manage_connections:
                close_old_connections()
            if self.running:
                time.sleep(self.interval)


class Command(BaseCommand):
    # The checks import every URL module; a worker restarted often should start fast.
    requires_system_checks: list[str] = []
    help = (
        "Run the background worker: broadcasts, sending, carrier receipts, email. "
        "With --until-idle, exit once no work is left, so results are final."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="exit once no task is runnable or scheduled within --horizon seconds and no "
            "message awaits its carrier's answer",
        )
        parser.add_argument(
            "--horizon",
            type=float,
            default=None,
            help="with --until-idle: wait for tasks scheduled up to this many seconds ahead "
            "(default: long enough for every retry: SCHOOLSMS_RETRY_BASE_DELAY x 2^limit, "
            "at least 10)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between looks for work when there is none "
            "(default 1; 0.05 with --until-idle)",
        )
        parser.add_argument("--worker-id", default="", help="unique name (default: random)")

    def handle(self, *args: Any, **options: Any) -> None:
        until_idle = options["until_idle"]
        interval = options["interval"]
        if interval is None:
            interval = 0.05 if until_idle else 1.0
        if interval < 0:
            raise CommandError("--interval must be zero or more seconds")
        horizon = options["horizon"]
        if horizon is None:
            horizon = max(
                10.0,
                settings.SCHOOLSMS_RETRY_BASE_DELAY * 2**settings.SCHOOLSMS_RETRY_LIMIT,
                settings.SCHOOLSMS_SIMULATOR_CALLBACK_DELAY + 5,
            )
        if horizon < 0:
            raise CommandError("--horizon must be zero or more seconds")
        worker_id = options["worker_id"] or get_random_string(16)
        if len(worker_id) > 64:
            raise CommandError("--worker-id must be at most 64 characters")
        worker = PipelineWorker(
            until_idle=until_idle,
            horizon=horizon,
            sweep_every=max(1.0, min(30.0, settings.SCHOOLSMS_SEND_LEASE / 2)),
            queue_names=["*"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
