"""The worker loop of the RQ task backend (django-tasks-rq on Redis): RQ's own worker runs the
tasks, one at a time in this process, with our duties between them."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import signal
import time
from typing import Any

import django_rq
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_rq.backend import Job
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from schoolsms.messaging.gateway import gateway_connections_close
from schoolsms.messaging.workers.duties import BetweenTasks, messages_settled

logger = logging.getLogger("schoolsms.worker")


class _JobWorker(SimpleWorker):
    """RQ's SimpleWorker without its pub/sub command channel. Our loop calls `work()` once per
    job, and RQ would open a listener thread on every call and wait up to a second to close it
    (a second per job, and leaked threads under load). Stopping goes through our own signal
    handlers, so the channel has nothing to do here."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


class RQPipelineWorker:
    """Takes one job at a time from every queue (RQ's SimpleWorker, no fork: like the
    database worker, a task runs in the worker process), moving scheduled jobs that came due
    first; between jobs, the same duties as the database worker."""

    def __init__(
        self,
        *,
        until_idle: bool,
        horizon: float,
        sweep_every: float,
        interval: float,
        worker_id: str,
        manage_connections: bool = True,
    ) -> None:
        self.until_idle = until_idle
        self.horizon = dt.timedelta(seconds=horizon)
        self.interval = interval
        self.manage_connections = manage_connections
        self.between_tasks = BetweenTasks(sweep_every=sweep_every)
        self.queues = [
            django_rq.get_queue(name, job_class=Job) for name in settings.TASKS["default"]["QUEUES"]
        ]
        self.worker = _JobWorker(
            self.queues,
            connection=self.queues[0].connection,
            job_class=Job,
            name=f"schoolsms-{worker_id}",
        )
        self.running = True

    def configure_signals(self) -> None:
        def stop(signum: int, frame: Any) -> None:
            logger.info("worker: stopping after the current task")
            self.running = False

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    def idle(self) -> bool:
        """Every queue empty, nothing scheduled within the horizon, and every message settled.
        (A job a killed worker was running stays in RQ's started registry for its whole
        timeout; its work is found again from the message rows, so it does not count.)"""
        due = (timezone.now() + self.horizon).timestamp()
        for queue in self.queues:
            if queue.count:
                return False
            if ScheduledJobRegistry(queue=queue).get_jobs_to_schedule(int(due)):
                return False
        return messages_settled()

    def run(self) -> None:
        try:
            self._run()
        finally:
            gateway_connections_close()  # unbind (SMPP) when the worker stops

    def _run(self) -> None:
        logger.info("worker %s started (RQ, all queues)", self.worker.name)
        gc.freeze()
        self.between_tasks(force_sweep=True)
        while self.running:
            if self.manage_connections:
                close_old_connections()
            # One job (or none), after moving scheduled jobs that came due into their queues.
            worked = self.worker.work(
                burst=True, max_jobs=1, with_scheduler=True, logging_level="WARNING"
            )
            if getattr(self.worker, "_stop_requested", False):  # RQ caught SIGINT/SIGTERM
                self.running = False
            if worked:
                self.between_tasks()
                continue
            self.between_tasks(force_sweep=self.until_idle)
            if self.until_idle and self.idle():
                logger.info("worker %s: no work left, exiting", self.worker.name)
                return
            if self.running:
                time.sleep(self.interval)
