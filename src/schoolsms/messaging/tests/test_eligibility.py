"""Dispatch: one row per (contact, SMS number), each reason decided in SQL in the right order."""

from __future__ import annotations

from typing import Any

import pytest

from schoolsms import testing
from schoolsms.consent.services import consent_change, number_block
from schoolsms.contacts.models import PhoneNumber
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, rows

pytestmark = pytest.mark.django_db(transaction=False)


def dispatch(org: Any, **audience: Any) -> Broadcast:
    broadcast = make_broadcast(org, enqueue=False, **audience)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    broadcast_fan_out(broadcast_id=broadcast.pk)
    return broadcast


def test_every_ineligible_reason_in_order_of_checks(org: Any) -> None:
    testing.create_contact(org, "ok", ["+12175550101"], consent="opted_in")
    testing.create_contact(org, "none", [])
    testing.create_contact(org, "disabled", [("+12175550102", False)], consent="opted_in")
    # Blocked wins over opted out: blocked is checked first.
    testing.create_contact(org, "blocked", ["+12175550103"], consent="opted_out")
    number_block(organization=org, phone="+12175550103")
    testing.create_contact(org, "out", ["+12175550104"], consent="opted_out")
    testing.create_contact(org, "pending", ["+12175550105"], consent="pending")
    testing.create_contact(org, "never", ["+12175550106"])
    broadcast = dispatch(org)
    got = {
        r["contact__external_id"]: (r["phone"], r["result"], r["reason"]) for r in rows(broadcast)
    }
    assert got == {
        "ok": ("+12175550101", "not_sent_yet", ""),
        "none": (None, "ineligible", "no_sms_number"),
        "disabled": (None, "ineligible", "no_sms_number"),
        "blocked": ("+12175550103", "ineligible", "blocked"),
        "out": ("+12175550104", "ineligible", "opted_out"),
        "pending": ("+12175550105", "ineligible", "pending_opt_in"),
        "never": ("+12175550106", "ineligible", "not_opted_in"),
    }


def test_one_row_per_sms_number_and_duplicates_after_the_first(org: Any) -> None:
    testing.create_contact(
        org, "a", ["+12175550111", ("+12175550119", False), "+12175550112"], consent="opted_in"
    )
    testing.create_contact(org, "b", ["+12175550111"], consent="opted_in")
    testing.create_contact(org, "c", ["+12175550112", "+12175550113"], consent="opted_in")
    broadcast = dispatch(org)
    got = [(r["contact__external_id"], r["phone"], r["reason"]) for r in rows(broadcast)]
    assert got == [
        ("a", "+12175550111", ""),
        ("a", "+12175550112", ""),
        ("b", "+12175550111", "duplicate_number"),
        ("c", "+12175550112", "duplicate_number"),
        ("c", "+12175550113", ""),
    ]


def test_an_ineligible_row_does_not_take_the_number(org: Any) -> None:
    # Contact a lists the number but not as SMS-enabled, so b's row is the first to get it.
    testing.create_contact(org, "a", [("+12175550121", False)])
    testing.create_contact(org, "b", ["+12175550121"], consent="opted_in")
    broadcast = dispatch(org)
    got = [(r["contact__external_id"], r["phone"], r["reason"]) for r in rows(broadcast)]
    assert got == [("a", None, "no_sms_number"), ("b", "+12175550121", "")]


def test_not_sms_capable_numbers_count_as_no_number(org: Any) -> None:
    contact = testing.create_contact(org, "a", ["+12175550131"], consent="opted_in")
    PhoneNumber.objects.filter(contact=contact).update(sms_capable=False)
    assert [r["reason"] for r in rows(dispatch(org))] == ["no_sms_number"]


def test_audience_filters_by_role_school_and_external_ids(org: Any, other_org: Any) -> None:
    testing.create_contact(org, "g1", ["+12175550141"], role="guardian", school="Lincoln")
    testing.create_contact(org, "g2", ["+12175550142"], role="guardian", school="Roosevelt")
    testing.create_contact(org, "s1", ["+12175550143"], role="staff", school="Lincoln")
    testing.create_contact(other_org, "g1", ["+12175550144"], role="guardian", school="Lincoln")

    def ids(**audience: Any) -> list[str]:
        return sorted(r["contact__external_id"] for r in rows(dispatch(org, **audience)))

    assert ids() == ["g1", "g2", "s1"]
    assert ids(roles=["guardian"]) == ["g1", "g2"]
    assert ids(schools=["Lincoln"]) == ["g1", "s1"]
    assert ids(roles=["guardian"], schools=["Lincoln"]) == ["g1"]
    assert ids(external_ids=["g2", "s1", "missing"]) == ["g2", "s1"]


def test_consent_of_another_sender_does_not_count(org: Any, other_org: Any) -> None:
    testing.create_contact(org, "a", ["+12175550151"])
    consent_change(
        sender=other_org.sender, phone="+12175550151", new_status="opted_in", source="admin"
    )
    assert [r["reason"] for r in rows(dispatch(org))] == ["not_opted_in"]


def test_dispatching_twice_creates_the_rows_once(org: Any) -> None:
    testing.create_contact(org, "a", ["+12175550161"], consent="opted_in")
    broadcast = dispatch(org)
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is None
    assert Message.objects.filter(broadcast=broadcast).count() == 1


def test_a_canceled_broadcast_is_not_fanned_out(org: Any) -> None:
    testing.create_contact(org, "a", ["+12175550171"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.CANCELED)
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is None
    assert not Message.objects.filter(broadcast=broadcast).exists()


def test_a_contact_outside_the_audience_does_not_make_a_duplicate(org: Any) -> None:
    testing.create_contact(org, "g", ["+12175550181"], role="guardian", consent="opted_in")
    testing.create_contact(org, "s", ["+12175550181"], role="staff")
    got = [(r["contact__external_id"], r["reason"]) for r in rows(dispatch(org, roles=["staff"]))]
    assert got == [("s", "")]
