"""The simulator's background work: posting the status callbacks of what it accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task, task_backends
from django_tasks_db.models import DBTaskResult, get_date_max

from schoolsms.carriers.simulator.receipts import HOLD_SECONDS, callbacks_deliver

BATCH = 5000


# Receipts go ahead of other work where the task backend knows priorities (RQ does not).
@task(queue_name="callbacks", priority=10 if task_backends["default"].supports_priority else 0)
def simulator_callbacks_task(sender_code: str) -> dict[str, Any]:
    """Settle every message of the sender whose callback delay has passed and post its
    callbacks; again at once while a full batch was due, or shortly for callbacks held back.
    Sends enqueue these (see callbacks_scheduled); whichever runs first does the work."""
    started = timezone.now()
    done = callbacks_deliver(sender_code=sender_code, limit=BATCH)
    if done["due"] == BATCH:
        simulator_callbacks_task.enqueue(sender_code)
    elif done["held"]:
        later = started + dt.timedelta(seconds=HOLD_SECONDS)
        simulator_callbacks_task.using(run_after=later).enqueue(sender_code)
    return done


def callbacks_scheduled(sender_code: str, due: dt.datetime | None) -> bool:
    """Whether a callbacks task for the sender is already waiting that will run no earlier
    than `due` (None: now), and so will pick these messages up: one task per send batch
    would otherwise pile up behind small throttled batches."""
    waiting = DBTaskResult.objects.filter(
        status="READY", task_path=simulator_callbacks_task.module_path
    )
    waiting = (
        waiting.filter(run_after=get_date_max())
        if due is None
        else waiting.filter(run_after__gte=due).exclude(run_after=get_date_max())
    )
    return any(
        (args_kwargs.get("args") or [None])[0] == sender_code
        for args_kwargs in waiting.values_list("args_kwargs", flat=True)[:100]
    )
