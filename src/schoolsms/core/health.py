"""What /healthz and /metrics report: database, workers, queues and delivery, read in a few
cheap queries (both are polled every few seconds by load balancers and Prometheus)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Message
from schoolsms.operations.selectors import newest_heartbeat

__all__ = ["newest_heartbeat"]

WORKER_SILENCE_LIMIT = 60.0  # seconds without a heartbeat before the service counts as down


def _age(now: dt.datetime, then: dt.datetime | None) -> float | None:
    return round((now - then).total_seconds(), 1) if then else None


def _database_backend() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def runnable_messages(now: dt.datetime) -> dict[str, Any]:
    """Rows waiting to be sent now (of broadcasts going out), and the oldest one's age."""
    rows = Message.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        result=DeliveryResult.NOT_SENT_YET,
        broadcast__status=BroadcastStatus.SENDING,
    ).aggregate(count=Count("id"), oldest=Min("created_at"))
    return {"count": rows["count"], "oldest_age_seconds": _age(now, rows["oldest"])}


def runnable_tasks(now: dt.datetime) -> dict[str, Any] | None:
    """Background tasks ready to run (database task backend only)."""
    if not _database_backend():
        return None
    from django_tasks_db.models import DBTaskResult, get_date_max

    ready = DBTaskResult.objects.filter(
        Q(run_after__lte=now) | Q(run_after=get_date_max()), status="READY"
    ).aggregate(count=Count("id"), oldest=Min("enqueued_at"))
    return {"count": ready["count"], "oldest_age_seconds": _age(now, ready["oldest"])}


@dataclass(frozen=True)
class Health:
    healthy: bool
    body: dict[str, Any]


def health_check() -> Health:
    now = timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return Health(False, {"status": "down", "database": f"unreachable: {type(exc).__name__}"})
    beat = newest_heartbeat()
    worker_age = _age(now, beat.seen_at if beat else None)
    workers_ok = worker_age is not None and worker_age <= WORKER_SILENCE_LIMIT
    body: dict[str, Any] = {
        "status": "ok" if workers_ok else "down",
        "database": "ok",
        "worker": {
            "newest_heartbeat": beat.seen_at.isoformat() if beat else None,
            "age_seconds": worker_age,
            "limit_seconds": WORKER_SILENCE_LIMIT,
        },
        "messages_runnable": runnable_messages(now),
        "tasks_runnable": runnable_tasks(now),
        "broadcasts_sending": Broadcast.objects.filter(status=BroadcastStatus.SENDING).count(),
    }
    if not workers_ok:
        body["problem"] = (
            "no worker has been seen" if beat is None else f"no worker seen for {worker_age:.0f} s"
        )
    return Health(workers_ok, body)


def message_counts() -> list[tuple[str, str, int]]:
    """(result, reason, count) over every message row."""
    return [
        (r["result"], r["reason"], r["n"])
        for r in Message.objects.values("result", "reason").annotate(n=Count("id")).order_by()
    ]


def receipt_delay(window: dt.timedelta = dt.timedelta(hours=1)) -> tuple[int, float, float]:
    """Delivery receipts of the last `window`: how many, mean and max seconds from sent_at."""
    since = timezone.now() - window
    rows = list(
        Message.objects.filter(delivered_at__gte=since, sent_at__isnull=False).values_list(
            "sent_at", "delivered_at"
        )[:100_000]
    )
    delays = [max((d - s).total_seconds(), 0.0) for s, d in rows if s and d]
    if not delays:
        return 0, 0.0, 0.0
    return len(delays), sum(delays) / len(delays), max(delays)
