"""The simulator's background work: posting the status callbacks of what it accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task, task_backends

from schoolsms.carriers.simulator.receipts import HOLD_SECONDS, callbacks_deliver
from schoolsms.operations.leases import lease_join, leases_release

BATCH = 20_000


def _lease(sender_code: str) -> str:
    return f"simulator-callbacks:{sender_code}"


# Receipts go ahead of other work where the task backend knows priorities (RQ does not).
@task(queue_name="callbacks", priority=10 if task_backends["default"].supports_priority else 0)
def simulator_callbacks_task(sender_code: str) -> dict[str, Any]:
    """Settle every message of the sender whose callback delay has passed and post its
    callbacks; again at once while a full batch was due, or shortly for callbacks held back.
    Sends enqueue these (see callbacks_task_ensure); whichever runs first does the work."""
    # First: messages accepted from now on get a task of their own, as this one may have
    # read its batch before they were written.
    leases_release(keys=[_lease(sender_code)])
    started = timezone.now()
    done = callbacks_deliver(sender_code=sender_code, limit=BATCH)
    if done["due"] == BATCH:
        callbacks_task_ensure(sender_code, None)
    elif done["held"]:
        callbacks_task_ensure(sender_code, started + dt.timedelta(seconds=HOLD_SECONDS))
    return done


def callbacks_task_ensure(sender_code: str, due: dt.datetime | None) -> None:
    """Make sure a callbacks task for the sender runs once `due` has come (None: now): one
    already waiting to run no earlier does (one task per send batch would otherwise pile
    up behind small throttled batches); else one is enqueued. Called in the transaction
    that stores the accepted messages: the task's lease is the sender's TaskLease row, held
    from enqueueing until the task starts (its `until`: the task's time plus
    SCHOOLSMS_SEND_LEASE, after which a task that never ran counts as lost)."""
    now = timezone.now()
    grace = dt.timedelta(seconds=settings.SCHOOLSMS_SEND_LEASE)
    needed = now if due is None else due + grace
    if lease_join(key=_lease(sender_code), needed=needed, until=(due or now) + grace):
        return
    if due is None or due <= now:
        simulator_callbacks_task.enqueue(sender_code)
    else:
        simulator_callbacks_task.using(run_after=due).enqueue(sender_code)
