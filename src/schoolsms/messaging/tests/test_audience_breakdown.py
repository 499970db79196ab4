"""The eligibility rules' one definition, seen from its three users: fan-out, the send-time
re-check and the audience breakdown (who a text would reach, counted by reason)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from schoolsms import testing
from schoolsms.consent.services import consent_change, number_block
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.eligibility import RULES
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.recheck import ineligible_now
from schoolsms.messaging.selectors import audience_breakdown
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast


def _district(org: Any) -> None:
    testing.create_contact(org, "ok", ["+12175550101"], role="guardian", consent="opted_in")
    testing.create_contact(org, "none", [], role="guardian")
    testing.create_contact(org, "blocked", ["+12175550103"], role="staff", consent="opted_out")
    number_block(organization=org, phone="+12175550103")
    testing.create_contact(org, "out", ["+12175550104"], role="guardian", consent="opted_out")
    testing.create_contact(org, "pending", ["+12175550105"], role="staff", consent="pending")
    testing.create_contact(org, "never", ["+12175550106"], role="guardian")
    testing.create_contact(org, "twin", ["+12175550101", "+12175550107"], role="guardian")
    consent_change(sender=org.sender, phone="+12175550107", new_status="opted_in", source="admin")


def test_the_breakdown_counts_each_reason(org: Any, other_org: Any) -> None:
    _district(org)
    testing.create_contact(other_org, "elsewhere", ["+12175550199"], consent="opted_in")
    counts = audience_breakdown(organization=org)
    assert set(counts["by_reason"]) == set(RULES)
    assert counts == {
        "contacts": 7,
        "rows": 8,
        "to_send": 2,  # ok, and twin's second number
        "by_reason": {
            "no_sms_number": 1,
            "blocked": 1,
            "opted_out": 1,
            "pending_opt_in": 1,
            "not_opted_in": 1,
            "duplicate_number": 1,  # twin's first number: ok has it already
        },
    }
    guardians = audience_breakdown(organization=org, roles=["guardian"])
    assert (guardians["rows"], guardians["to_send"], guardians["by_reason"]["blocked"]) == (6, 2, 0)
    assert audience_breakdown(organization=org, external_ids=["missing"])["rows"] == 0


def test_the_breakdown_is_what_fan_out_then_makes(org: Any) -> None:
    _district(org)
    for audience in ({}, {"roles": ["staff"]}, {"external_ids": ["twin", "never"]}):
        predicted = audience_breakdown(organization=org, **audience)
        broadcast = make_broadcast(org, enqueue=False, **audience)
        Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
        broadcast_fan_out(broadcast_id=broadcast.pk)
        made = Counter(Message.objects.filter(broadcast=broadcast).values_list("reason", flat=True))
        expected = {"": predicted["to_send"], **predicted["by_reason"]}
        assert {k: v for k, v in expected.items() if v} == dict(made)
        assert predicted["rows"] == sum(made.values())


def test_the_send_time_recheck_applies_the_same_rules(org: Any) -> None:
    _district(org)
    got = ineligible_now(
        organization=org,
        phones=["+12175550101", "+12175550103", "+12175550104", "+12175550105", "+12175550106"],
    )
    assert got == {
        "+12175550103": "blocked",  # blocked comes before opted out
        "+12175550104": "opted_out",
        "+12175550105": "pending_opt_in",
        "+12175550106": "not_opted_in",
    }
    assert ineligible_now(organization=org, phones=[]) == {}
