"""The worker loop of the database task backend (django_tasks_db's, with our duties)."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from typing import Any

from django.db import close_old_connections
from django.db.models import Q
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from schoolsms.messaging.gateway import gateway_connections_close
from schoolsms.messaging.workers.duties import BetweenTasks, messages_settled

logger = logging.getLogger("schoolsms.worker")


class PipelineWorker(Worker):
    """django_tasks_db's worker loop plus our duties between tasks, and an optional exit when
    idle."""

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
        self.between_tasks = BetweenTasks(sweep_every=sweep_every)

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
        """Nothing runnable or scheduled soon (within the horizon), and every message settled."""
        now = timezone.now()
        soon = DBTaskResult.objects.filter(backend_name=self.backend_name, status="READY").filter(
            Q(run_after=get_date_max()) | Q(run_after__lte=now + self.horizon)
        )
        return not soon.exists() and messages_settled()

    def run(self) -> None:
        try:
            self._run()
        finally:
            gateway_connections_close()  # unbind (SMPP) when the worker stops

    def _run(self) -> None:
        logger.info("worker %s started (all queues)", self.worker_id)
        # Everything loaded so far (Django, the apps) lives as long as the process: keep the
        # collector from walking it again and again, which paused sending for milliseconds
        # at a time (jitter on a throttled sender's rate, and time lost when sending fast).
        gc.freeze()
        self.between_tasks(force_sweep=True)
        while self.running:
            if self.manage_connections:
                close_old_connections()
            found = self._next_task()
            if found is not None:
                self.run_task(found)
                self.between_tasks()
                continue
            self.between_tasks(force_sweep=self.until_idle)
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
