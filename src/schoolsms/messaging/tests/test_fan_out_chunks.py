"""Fan-out in chunks: the same rows and reasons as a fan-out in one go, a number texted in an
earlier chunk a duplicate in a later one, sending from the first chunk on, Complete only after
the last, cancel stopping both, and a fan-out that lost its task resumed without duplicates."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.consent.services import number_block
from schoolsms.contacts.models import PhoneNumber
from schoolsms.messaging.dispatch import broadcast_fan_out, fan_out_step
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.pipeline import broadcast_complete_if_done, send_round
from schoolsms.messaging.services import broadcast_cancel
from schoolsms.messaging.tasks import broadcast_dispatch_task
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, rows, run_worker

pytestmark = pytest.mark.django_db

A, B, C, D = (f"+1217555{n:04d}" for n in range(301, 305))


@pytest.fixture
def org(org: Any, settings: Any) -> Any:
    settings.SCHOOLSMS_FAN_OUT_CHUNK = 2
    org.sender.mps = 0
    org.sender.save()
    return org


@pytest.fixture
def audience(org: Any) -> Any:
    """Seven contacts, so four chunks of two; A is shared across three chunks, B across two."""
    testing.create_contact(org, "c1", [A, B], consent="opted_in")
    testing.create_contact(org, "c2", [], consent="opted_in")
    testing.create_contact(org, "c3", [A], consent="opted_in")
    testing.create_contact(org, "c4", [C], consent="opted_in")
    number_block(organization=org, phone=C)
    testing.create_contact(org, "c5", [B, D], consent="opted_in")
    testing.create_contact(org, "c6", [D], consent="pending")
    testing.create_contact(org, "c7", [A])
    return org


def going(org: Any) -> Broadcast:
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    return broadcast


def texted_once(broadcast: Broadcast) -> bool:
    """No number has more than one row of the broadcast that may be sent."""
    numbers = Counter(
        Message.objects.filter(broadcast=broadcast)
        .exclude(result="ineligible")
        .values_list("phone", flat=True)
    )
    return max(numbers.values()) == 1


def test_chunks_make_the_rows_of_a_fan_out_in_one_go(audience: Any, settings: Any) -> None:
    chunked = going(audience)
    assert broadcast_fan_out(broadcast_id=chunked.pk) == 9
    chunked.refresh_from_db()
    assert chunked.fanned_out_at is not None
    settings.SCHOOLSMS_FAN_OUT_CHUNK = 1000
    whole = going(audience)
    broadcast_fan_out(broadcast_id=whole.pk)
    assert rows(chunked) == rows(whole)
    assert [(r["contact__external_id"], r["phone"], r["reason"]) for r in rows(chunked)] == [
        ("c1", A, ""),
        ("c1", B, ""),
        ("c2", None, "no_sms_number"),
        ("c3", A, "duplicate_number"),
        ("c4", C, "blocked"),
        ("c5", B, "duplicate_number"),
        ("c5", D, "pending_opt_in"),
        ("c6", D, "pending_opt_in"),
        ("c7", A, "duplicate_number"),
    ]


def test_a_number_an_earlier_chunk_texted_stays_texted_once(org: Any) -> None:
    first = testing.create_contact(org, "c1", [A], consent="opted_in")
    testing.create_contact(org, "c2", [B], consent="opted_in")
    testing.create_contact(org, "c3", [A], consent="opted_in")
    broadcast = going(org)
    step = fan_out_step(broadcast_id=broadcast.pk)
    assert step is not None and step.first and not step.done
    # Between chunks the first contact's number changes: its row for A is already written.
    PhoneNumber.objects.filter(contact=first).update(phone=D)
    broadcast_fan_out(broadcast_id=broadcast.pk)
    got = [(r["contact__external_id"], r["phone"], r["reason"]) for r in rows(broadcast)]
    assert got == [("c1", A, ""), ("c2", B, ""), ("c3", A, "duplicate_number")]


def test_sending_starts_after_the_first_chunk_and_completes_after_the_last(org: Any) -> None:
    for i in range(5):
        testing.create_contact(org, f"c{i}", [f"+1217555{400 + i:04d}"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    broadcast_dispatch_task.call(broadcast.pk)  # the first chunk
    send_round(broadcast_id=broadcast.pk)
    assert SimulatedMessage.objects.filter(message_ref__isnull=False).count() == 2
    assert Message.objects.filter(broadcast=broadcast).count() == 2
    assert not broadcast_complete_if_done(broadcast_id=broadcast.pk)
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENDING and broadcast.fanned_out_at is None
    run_worker()  # the next chunks, and sending them
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE
    assert set(Message.objects.filter(broadcast=broadcast).values_list("result", flat=True)) == {
        "sent"
    }
    assert SimulatedMessage.objects.filter(message_ref__isnull=False).count() == 5


def test_cancel_stops_the_fan_out_and_the_sending(org: Any) -> None:
    for i in range(6):
        testing.create_contact(org, f"c{i}", [f"+1217555{500 + i:04d}"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    broadcast_dispatch_task.call(broadcast.pk)  # the first chunk; send tasks and the next chunk
    broadcast_cancel(broadcast=broadcast)  # are queued
    run_worker()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.CANCELED and broadcast.fanned_out_at is None
    assert Message.objects.filter(broadcast=broadcast).count() == 2
    assert not SimulatedMessage.objects.exists()


def test_a_fan_out_that_lost_its_task_resumes_where_it_stopped(audience: Any) -> None:
    broadcast = going(audience)
    # A worker wrote the first chunk and died before queuing anything else.
    fan_out_step(broadcast_id=broadcast.pk)
    assert Message.objects.filter(broadcast=broadcast).count() == 3
    run_worker()  # its sweep finds the fan-out without a task
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE
    assert [r["contact__external_id"] for r in rows(broadcast)] == [
        "c1",
        "c1",
        "c2",
        "c3",
        "c4",
        "c5",
        "c5",
        "c6",
        "c7",
    ]
    assert texted_once(broadcast)
    sent = Counter(SimulatedMessage.objects.values_list("to", flat=True))
    assert sent == {A: 1, B: 1}
