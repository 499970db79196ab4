"""Reading worker heartbeats."""

from __future__ import annotations

from schoolsms.operations.models import WorkerHeartbeat


def newest_heartbeat() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.order_by("-seen_at").first()
