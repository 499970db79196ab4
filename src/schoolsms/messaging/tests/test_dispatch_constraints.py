"""Dispatch pauses SQLite's per-row foreign-key checks for its one INSERT and turns them back on;
the check constraints on message rows (written as OR chains, see schoolsms.constraints) hold."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from schoolsms import testing
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast

# Outside a test transaction, so the pause really happens on SQLite.
pytestmark = pytest.mark.django_db(transaction=True)


def test_rows_are_made_and_foreign_keys_are_enforced_again_afterwards(org: Any) -> None:
    testing.create_contact(org, "a", ["+12175550131"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    assert broadcast_fan_out(broadcast_id=broadcast.pk) == 1
    row = Message.objects.select_related("contact").get(broadcast=broadcast)
    assert row.contact is not None
    assert (row.phone, row.contact.external_id) == ("+12175550131", "a")
    # A row pointing at a broadcast that does not exist is refused: the checks are back on.
    # (Deferred, so the database refuses it at commit.)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.filter(pk=row.pk).update(broadcast_id=broadcast.pk + 1000)


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ("bogus", ""),
        ("ineligible", ""),
        ("failed", "bogus"),
        ("not_sent_yet", "blocked"),
        ("sending", "carrier_error"),
    ],
)
def test_the_database_refuses_a_result_and_reason_that_do_not_go_together(
    org: Any, result: str, reason: str
) -> None:
    testing.create_contact(org, "a", ["+12175550131"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    broadcast_fan_out(broadcast_id=broadcast.pk)
    row = Message.objects.filter(broadcast=broadcast)
    with pytest.raises(IntegrityError), transaction.atomic():
        row.update(result=result, reason=reason)
    assert row.get().result == "not_sent_yet"
    row.update(result="ineligible", reason="blocked")  # a pair that goes together is kept
    assert row.get().reason == "blocked"
