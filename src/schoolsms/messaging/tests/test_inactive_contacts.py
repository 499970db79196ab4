"""Contacts the roster made inactive are never texted: a broadcast gives them no message row
(they are outside its audience, like a contact of another school), and they are counted out
of the audience preview; back on the roster, they are texted again with their consent kept."""

from __future__ import annotations

import io
from typing import Any

import pytest

from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.consent.services import consent_change
from schoolsms.contacts.oneroster.services import roster_import
from schoolsms.contacts.tests.rosters import bundle, user
from schoolsms.messaging.models import Message
from schoolsms.messaging.selectors import audience_preview
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, run_worker

pytestmark = pytest.mark.django_db

PEOPLE = [
    user("p1", "Ana", "Diaz", sms="2175550101"),
    user("p2", "Bo", "Li", sms="2175550102"),
    user("p3", "Cy", "Ng", sms="2175550103", enabledUser="false"),
]


@pytest.fixture
def org(org: Any) -> Any:
    org.sender.mps = 0
    org.sender.save()
    return org


def load(org: Any, people: list[dict[str, str]]) -> None:
    data = bundle(people)
    roster_import(organization=org, file=io.BytesIO(data), size=len(data), confirmed=True)


def texted(broadcast: Any) -> set[str]:
    rows = Message.objects.filter(broadcast=broadcast)
    return set(rows.values_list("contact__external_id", flat=True))


def test_inactive_contacts_get_no_message_row_and_no_text(org: Any) -> None:
    load(org, PEOPLE)
    for n in ("+12175550101", "+12175550102", "+12175550103"):
        consent_change(sender=org.sender, phone=n, new_status="opted_in", source="keyword",
                       organization=org)  # fmt: skip
    load(org, PEOPLE[1:])  # p1 left the roster; p3 is disabled in the school system
    assert audience_preview(organization=org) == {"contacts": 1, "numbers": 1}
    first = make_broadcast(org)
    run_worker()
    assert texted(first) == {"p2"}
    assert set(SimulatedMessage.objects.values_list("to", flat=True)) == {"+12175550102"}

    load(org, [PEOPLE[0], PEOPLE[1], {**PEOPLE[2], "enabledUser": "true"}])  # both come back
    second = make_broadcast(org)
    run_worker()
    assert texted(second) == {"p1", "p2", "p3"}
    assert set(Message.objects.filter(broadcast=second).values_list("result", flat=True)) == {
        "sent"
    }
