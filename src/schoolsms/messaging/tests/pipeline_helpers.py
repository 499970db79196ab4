"""Builders for the pipeline tests: broadcasts made directly as rows, and the worker run
in-process until it is idle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tasks import broadcast_dispatch_enqueue
from schoolsms.testing import run_worker

__all__ = ["make_broadcast", "outcomes", "rows", "run_worker"]


def make_broadcast(
    org: Organization,
    *,
    text: str = "School closes at noon today.",
    emergency: bool = False,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
    enqueue: bool = True,
) -> Broadcast:
    broadcast = Broadcast.objects.create(
        organization=org,
        name="Test broadcast",
        text=text,
        emergency=emergency,
        audience_roles=list(roles),
        audience_schools=list(schools),
        audience_external_ids=list(external_ids),
        status=BroadcastStatus.SCHEDULED,
    )
    if enqueue:
        broadcast_dispatch_enqueue(broadcast.pk)
    return broadcast


def outcomes(broadcast: Broadcast) -> dict[str | None, tuple[str, str]]:
    """phone -> (result, reason) for every row of the broadcast (phone None: no number)."""
    return {m.phone: (m.result, m.reason) for m in Message.objects.filter(broadcast=broadcast)}


def rows(broadcast: Broadcast) -> list[dict[str, Any]]:
    return list(
        Message.objects.filter(broadcast=broadcast)
        .order_by("id")
        .values("contact__external_id", "phone", "result", "reason")
    )
