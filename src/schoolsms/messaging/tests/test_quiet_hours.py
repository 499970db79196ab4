"""Quiet hours in the number's own time zone, with the time passed in (no clock mocking)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from schoolsms import testing
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.messaging import pipeline, selectors
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.quiet_hours import quiet_until
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, run_worker

UTC = dt.UTC
NEW_YORK = "+12125550101"  # 212: America/New_York
LOS_ANGELES = "+14155550101"  # 415: America/Los_Angeles
HONOLULU = "+18085550101"  # 808: Pacific/Honolulu


class Org:
    """Just the fields quiet_until reads."""

    def __init__(self, start: str | None = "21:00", end: str | None = "08:00", tz: str = "UTC"):
        self.quiet_hours_start = dt.time.fromisoformat(start) if start else None
        self.quiet_hours_end = dt.time.fromisoformat(end) if end else None
        self.timezone = tz


@pytest.fixture
def org(org: Any) -> Any:
    """The product's default quiet hours (tests' organizations have none unless asked)."""
    org.quiet_hours_start, org.quiet_hours_end = dt.time(21), dt.time(8)
    org.save()
    return org


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_same_instant_is_quiet_in_one_zone_and_not_in_another() -> None:
    now = at("2026-01-15T03:30")  # 22:30 in New York, 19:30 in Los Angeles, 17:30 Honolulu
    org: Any = Org()
    assert quiet_until(phone=NEW_YORK, organization=org, now=now) == at("2026-01-15T13:00")
    assert quiet_until(phone=LOS_ANGELES, organization=org, now=now) is None
    assert quiet_until(phone=HONOLULU, organization=org, now=now) is None


def test_early_morning_waits_until_the_window_opens_that_day() -> None:
    now = at("2026-07-01T12:00")  # 05:00 in Los Angeles (PDT, UTC-7)
    org: Any = Org()
    assert quiet_until(phone=LOS_ANGELES, organization=org, now=now) == at("2026-07-01T15:00")
    assert quiet_until(phone=NEW_YORK, organization=org, now=now) is None  # 08:00 sharp


def test_unknown_area_falls_back_to_the_organization_zone() -> None:
    org: Any = Org(tz="America/Chicago")
    now = at("2026-01-15T04:00")  # 22:00 in Chicago
    # A toll-free number maps to every zone of the country: none of its own.
    assert quiet_until(phone="+18005550100", organization=org, now=now) == at("2026-01-15T14:00")


def test_an_area_code_in_two_zones_waits_for_the_later_one() -> None:
    # 208 (Idaho) is in Mountain (Boise) and Pacific (Los Angeles) time.
    from schoolsms.messaging.quiet_hours import number_time_zones

    assert set(number_time_zones("+12085550101")) == {"America/Boise", "America/Los_Angeles"}
    org: Any = Org()
    now = at("2026-01-15T15:30")  # 08:30 in Boise, 07:30 in Los Angeles
    assert quiet_until(phone="+12085550101", organization=org, now=now) == at("2026-01-15T16:00")


def test_a_window_inside_one_day_and_no_quiet_hours() -> None:
    lunch: Any = Org("12:00", "13:00")
    assert quiet_until(phone=NEW_YORK, organization=lunch, now=at("2026-01-15T17:30")) == at(
        "2026-01-15T18:00"
    )
    assert quiet_until(phone=NEW_YORK, organization=lunch, now=at("2026-01-15T18:00")) is None
    assert (
        quiet_until(phone=NEW_YORK, organization=Org(None, None), now=at("2026-01-15T03:00"))
        is None
    )


@pytest.mark.django_db
def test_rows_wait_as_not_sent_yet_and_emergencies_go_at_once(org: Any) -> None:
    org.sender.mps = 0
    org.sender.save()
    testing.create_contact(org, "ny", [NEW_YORK], consent="opted_in")
    testing.create_contact(org, "la", [LOS_ANGELES], consent="opted_in")
    now = at("2026-01-15T03:30")
    normal = make_broadcast(org, enqueue=False)
    emergency = make_broadcast(org, enqueue=False, emergency=True)
    for broadcast in (normal, emergency):
        Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
        broadcast_fan_out(broadcast_id=broadcast.pk)
        # Rows never tried yet are runnable at once.
        assert selectors.runnable_exists(broadcast_id=broadcast.pk, now=now)
        pipeline.send_round(broadcast_id=broadcast.pk, now=now)
    ny = Message.objects.get(broadcast=normal, phone=NEW_YORK)
    assert (ny.result, ny.next_attempt_at, ny.attempts) == (
        "not_sent_yet",
        at("2026-01-15T13:00"),
        0,
    )
    assert Message.objects.get(broadcast=normal, phone=LOS_ANGELES).result == "sending"
    assert set(Message.objects.filter(broadcast=emergency).values_list("result", flat=True)) == {
        "sending"
    }
    assert SimulatedMessage.objects.filter(to=NEW_YORK).count() == 1  # the emergency only
    # The held row is not runnable now; the broadcast's task is due when the window opens.
    assert not selectors.runnable_exists(broadcast_id=normal.pk, now=now)
    assert selectors.next_attempt_at(broadcast_id=normal.pk) == at("2026-01-15T13:00")
    assert selectors.runnable_exists(broadcast_id=normal.pk, now=at("2026-01-15T13:00"))
    # Once the window opens the held row goes.
    pipeline.send_round(broadcast_id=normal.pk, now=at("2026-01-15T13:00"))
    ny.refresh_from_db()
    assert (ny.result, ny.attempts) == ("sending", 1)


@pytest.mark.django_db
def test_a_round_holds_every_batch_once_and_the_window_opening_sends_them_all(
    org: Any, settings: Any
) -> None:
    settings.SCHOOLSMS_SEND_BATCH_SIZE = 2
    org.sender.mps = 0
    org.sender.save()
    for i in range(5):
        testing.create_contact(org, f"ny{i}", [f"+1212555020{i}"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    broadcast_fan_out(broadcast_id=broadcast.pk)
    night = pipeline.send_round(broadcast_id=broadcast.pk, now=at("2026-01-15T03:30"))
    assert night.claimed == 5  # three batches, each past the rows held before it
    rows = Message.objects.filter(broadcast=broadcast)
    assert set(rows.values_list("result", "next_attempt_at", "attempts")) == {
        ("not_sent_yet", at("2026-01-15T13:00"), 0)
    }
    morning = pipeline.send_round(broadcast_id=broadcast.pk, now=at("2026-01-15T13:00"))
    assert morning.claimed == 5
    assert set(rows.values_list("result", flat=True)) == {"sending"}


@pytest.mark.django_db(transaction=True)
def test_rows_held_in_the_first_chunk_do_not_hold_the_later_chunks(org: Any, settings: Any) -> None:
    """The first chunk's numbers are all in quiet hours; the later chunks' are not, and go out
    while the fan-out is still writing rows (not when the first chunk's window opens)."""
    settings.SCHOOLSMS_FAN_OUT_CHUNK = 2
    org.sender.mps = 0
    org.sender.save()
    # Quiet now in New York, not in Honolulu (five or six hours behind).
    new_york_now = dt.datetime.now(ZoneInfo("America/New_York"))
    org.timezone = "UTC"
    org.quiet_hours_start = (new_york_now - dt.timedelta(hours=1)).time().replace(microsecond=0)
    org.quiet_hours_end = (new_york_now + dt.timedelta(hours=1)).time().replace(microsecond=0)
    org.save()
    for i in range(2):
        testing.create_contact(org, f"ny{i}", [f"+1212555030{i}"], consent="opted_in")
    for i in range(4):
        testing.create_contact(org, f"hi{i}", [f"+1808555030{i}"], consent="opted_in")
    broadcast = make_broadcast(org)
    run_worker(horizon=5, within=60)
    rows = Message.objects.filter(broadcast=broadcast)
    assert {m.phone: m.result for m in rows if m.phone.startswith("+1808")} == {
        f"+1808555030{i}": "sent" for i in range(4)
    }
    assert {m.result for m in rows if m.phone.startswith("+1212")} == {"not_sent_yet"}
