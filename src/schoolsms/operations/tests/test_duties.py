"""Heartbeats and periodic duties: one worker runs a duty per period, whichever it is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from schoolsms.operations import services
from schoolsms.operations.models import DutyRun, WorkerHeartbeat
from schoolsms.operations.services import Duty, duties_run_due, duty_register, heartbeat_beat


def test_heartbeat_records_and_forgets_workers(db: Any) -> None:
    now = timezone.now()
    heartbeat_beat(worker="old:1", started_at=now, now=now - dt.timedelta(days=2))
    heartbeat_beat(worker="host:2", started_at=now, now=now)
    heartbeat_beat(worker="host:2", started_at=now, now=now + dt.timedelta(seconds=10))
    beats = list(WorkerHeartbeat.objects.values_list("worker", "seen_at"))
    assert beats == [("host:2", now + dt.timedelta(seconds=10))]


def test_a_duty_runs_once_per_period_across_workers(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "_DUTIES", {})
    calls: list[str] = []
    duty_register(Duty("tidy", dt.timedelta(days=1), lambda: calls.append("x") or "tidied"))
    now = timezone.now()
    assert duties_run_due(now=now) == ["tidy"]
    # A second worker a minute later: already done for this period.
    assert duties_run_due(now=now + dt.timedelta(minutes=1)) == []
    assert duties_run_due(now=now + dt.timedelta(days=1, seconds=1)) == ["tidy"]
    assert calls == ["x", "x"]
    assert DutyRun.objects.get(name="tidy").last_outcome == "tidied"


def test_a_disabled_or_failing_duty_does_not_stop_the_worker(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "_DUTIES", {})

    def broken() -> str:
        raise RuntimeError("disk gone")

    duty_register(Duty("off", dt.timedelta(hours=1), lambda: "ran", enabled=lambda: False))
    duty_register(Duty("broken", dt.timedelta(hours=1), broken))
    assert duties_run_due() == ["broken"]
    assert DutyRun.objects.get(name="broken").last_outcome == "failed: RuntimeError"
    assert not DutyRun.objects.filter(name="off").exists()
