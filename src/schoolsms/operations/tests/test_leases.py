"""Task leases: who looks after a piece of background work, and until when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from schoolsms.operations.leases import lease_join, leases_held, leases_release
from schoolsms.operations.models import TaskLease


def test_joining_rides_along_only_while_the_lease_lasts_long_enough(db: Any) -> None:
    now = timezone.now()
    later = now + dt.timedelta(seconds=30)
    # Nobody holds it: the first caller takes it (and enqueues the task).
    assert lease_join(key="k", needed=now, until=later) is False
    # A task waits until `later`: work due before then rides along, work due after does not.
    assert lease_join(key="k", needed=later, until=later) is True
    assert TaskLease.objects.get(key="k").until == later
    extended = later + dt.timedelta(seconds=5)
    assert lease_join(key="k", needed=extended, until=extended) is False
    assert TaskLease.objects.get(key="k").until == extended
    # The task started and released it: the next caller must enqueue a task of its own.
    leases_release(keys=["k"])
    assert leases_held(keys=["k"], now=now) == set()
    assert lease_join(key="k", needed=now, until=later) is False
    assert leases_held(keys=["k"], now=now) == {"k"}
