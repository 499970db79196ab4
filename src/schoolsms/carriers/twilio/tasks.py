"""Background work of the Twilio gateway: applying status callbacks that were held until
their message's sid was stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task, task_backends

from schoolsms.carriers.twilio.receipts import held_statuses_apply
from schoolsms.operations.leases import lease_take, leases_release

# First look again this soon (the sending worker stores a batch's answers within a second),
# then less and less often while callbacks stay held.
FIRST_DELAY = dt.timedelta(seconds=1)
MAX_DELAY = dt.timedelta(seconds=60)
# Held while a task is due to look soon, so a burst of held callbacks enqueues one task.
LEASE = "twilio:held-statuses"


# Ahead of other work where the task backend knows priorities (RQ does not).
@task(queue_name="callbacks", priority=10 if task_backends["default"].supports_priority else 0)
def held_statuses_task(delay_seconds: float = 1.0) -> dict[str, Any]:
    # Callbacks held from now on get a task of their own (this one may have looked already).
    leases_release(keys=[LEASE])
    left = held_statuses_apply()
    if left:
        delay = min(dt.timedelta(seconds=delay_seconds * 2), MAX_DELAY)
        held_statuses_task.using(run_after=timezone.now() + delay).enqueue(delay.total_seconds())
    return {"held": left}


def held_statuses_task_ensure() -> None:
    """Make sure a task will look at the held callbacks soon: one due soon is enough (a chain
    backing off for older held callbacks may be waiting much longer)."""
    now = timezone.now()
    if lease_take(key=LEASE, until=now + 2 * FIRST_DELAY, now=now):
        held_statuses_task.using(run_after=now + FIRST_DELAY).enqueue(FIRST_DELAY.total_seconds())
