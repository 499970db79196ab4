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


class TaskLease(models.Model):
    """Who is looking after a piece of background work, and until when: a task waiting in the
    queue or running holds the lease of its work (e.g. "send:42" for broadcast 42's sending),
    and the worker's sweep restarts work whose lease ran out. Kept in the project's own table,
    so the sweep works the same whatever task backend carries the tasks."""

    key = models.CharField(max_length=120, primary_key=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} until {self.until:%H:%M:%S}"
