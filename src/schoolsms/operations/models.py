"""Worker heartbeats and the last run of each periodic duty: the project's own record of which
workers are alive and what they did, independent of the task backend."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One worker process (host and pid): when it started and when it was last seen working."""

    worker = models.CharField(max_length=200, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class DutyRun(models.Model):
    """When a periodic duty (e.g. the daily prune) last started, whichever worker ran it."""

    name = models.CharField(max_length=60, primary_key=True)
    last_started_at = models.DateTimeField()
    last_outcome = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_started_at:%Y-%m-%d %H:%M}"
