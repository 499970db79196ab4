"""Task leases: background work says it is looked after until a time; a lease that ran out
means its task was lost (a worker killed mid-task, a queue emptied) and the work is restarted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from schoolsms.operations.models import TaskLease


def lease_extend(*, key: str, until: dt.datetime) -> None:
    """The work under `key` is looked after until at least `until` (never shortened)."""
    TaskLease.objects.filter(key=key, until__lt=until).update(until=until)
    if not TaskLease.objects.filter(key=key).exists():
        try:
            with transaction.atomic():
                TaskLease.objects.create(key=key, until=until)
        except IntegrityError:
            TaskLease.objects.filter(key=key, until__lt=until).update(until=until)


def lease_take(*, key: str, until: dt.datetime, now: dt.datetime | None = None) -> bool:
    """Take over work whose lease ran out (or never existed): True for exactly one caller."""
    now = now or timezone.now()
    if TaskLease.objects.filter(key=key, until__lt=now).update(until=until):
        return True
    try:
        with transaction.atomic():
            TaskLease.objects.create(key=key, until=until)
    except IntegrityError:
        return False
    return True


def lease_join(*, key: str, needed: dt.datetime, until: dt.datetime) -> bool:
    """Ride along with the task holding `key` if its lease lasts to `needed`: True then.
    Otherwise the lease is taken (or extended) until `until` and False: the caller enqueues
    the task. Either way the lease row is written, so it stays locked until the caller's
    transaction ends: a task that releases the lease as it starts waits for that, and then
    sees whatever the caller wrote in that transaction."""
    if TaskLease.objects.filter(key=key, until__gte=needed).update(until=F("until")):
        return True
    lease_extend(key=key, until=until)
    return False


def leases_held(*, keys: Iterable[str], now: dt.datetime | None = None) -> set[str]:
    """Which of `keys` are looked after now."""
    now = now or timezone.now()
    wanted = list(keys)
    if not wanted:
        return set()
    return set(
        TaskLease.objects.filter(key__in=wanted, until__gte=now).values_list("key", flat=True)
    )


def leases_release(*, keys: Iterable[str]) -> None:
    TaskLease.objects.filter(key__in=list(keys)).delete()


def leases_forget(*, before: dt.datetime) -> int:
    """Drop leases that ran out long ago (the work finished or moved on)."""
    return int(TaskLease.objects.filter(Q(until__lt=before)).delete()[0])
