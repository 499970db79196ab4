"""`worker --until-idle` with several workers: one worker may find the queue empty while
another starts a broadcast or holds its send task. It must not call that idle."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from schoolsms import testing
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, run_worker
from schoolsms.messaging.workers.duties import messages_settled

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(org: Any) -> Any:
    testing.create_contact(org, "c1", ["+12175550301"], consent="opted_in")
    testing.create_contact(org, "c2", ["+12175550302"], consent="opted_in")
    return org


def test_a_broadcast_due_to_start_is_not_idle(org: Any) -> None:
    make_broadcast(org, enqueue=False)  # its start-up task runs in another worker
    assert not messages_settled()


def test_rows_ready_to_send_are_not_idle_until_sent(org: Any) -> None:
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    broadcast_fan_out(broadcast_id=broadcast.pk)
    # Fanned out; the send task is another worker's (none is queued here).
    waiting = Message.objects.filter(broadcast=broadcast, result=DeliveryResult.NOT_SENT_YET)
    assert waiting.count() == 2
    assert not messages_settled()
    run_worker()  # the sweep finds the rows and sends them
    assert set(Message.objects.filter(broadcast=broadcast).values_list("result", flat=True)) == {
        DeliveryResult.SENT
    }
    assert messages_settled()


def test_a_broadcast_scheduled_for_later_is_idle(org: Any) -> None:
    broadcast = make_broadcast(org, enqueue=False)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    Broadcast.objects.filter(pk=broadcast.pk).update(scheduled_at=tomorrow)
    assert messages_settled()
