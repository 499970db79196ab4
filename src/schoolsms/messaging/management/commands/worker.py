"""`schoolsms worker [--until-idle]`: runs every background task (all queues) of the configured
task backend (database or RQ), and re-attaches work a dead worker left behind."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string

from schoolsms.messaging.workers.configured import pipeline_worker, worker_process_settle
from schoolsms.messaging.workers.database import PipelineWorker

__all__ = ["Command", "PipelineWorker"]


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
        sweep_every = max(1.0, min(30.0, settings.SCHOOLSMS_SEND_LEASE / 2))
        worker = pipeline_worker(
            until_idle=until_idle,
            horizon=horizon,
            sweep_every=sweep_every,
            interval=interval,
            worker_id=worker_id,
        )
        worker.configure_signals()
        worker_process_settle()
        worker.run()
