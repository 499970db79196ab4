"""A small district with broadcasts, message rows and consent states, plus a second district
whose rows must never show up in the first one's reports."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from schoolsms import testing
from schoolsms.accounts.models import Organization
from schoolsms.consent.services import number_block
from schoolsms.contacts.models import Contact
from schoolsms.messaging.models import Broadcast
from schoolsms.reports.tests.factories import make_broadcast, make_message

NY = zoneinfo.ZoneInfo("America/New_York")


@dataclass
class District:
    org: Organization
    snow: Broadcast
    picture: Broadcast
    ana: Contact
    ben: Contact
    evil: Contact
    cal: Contact
    other_org: Organization
    other_broadcast: Broadcast


def local_noon(days_ago: int) -> dt.datetime:
    day = timezone.now().astimezone(NY).date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=NY)


@pytest.fixture
def district(org: Organization, other_org: Organization) -> District:
    ana = testing.create_contact(
        org, "S100", ["+12175550101"], first_name="Ana", last_name="Lopez", consent="opted_in"
    )
    ben = testing.create_contact(
        org, "S200", ["+12175550102"], first_name="Ben", last_name="Okafor"
    )
    from schoolsms.consent.services import consent_change
    from schoolsms.contacts.models import PhoneNumber

    consent_change(sender=org.sender, phone="+12175550102", new_status="pending", source="import")
    consent_change(
        sender=org.sender,
        phone="+12175550102",
        new_status="opted_out",
        source="keyword",
        text="STOP",
    )
    PhoneNumber.objects.create(contact=ben, position=2, phone="+12175550103")
    consent_change(sender=org.sender, phone="+12175550103", new_status="pending", source="import")
    # Spreadsheet formulas hidden in imported data.
    evil = testing.create_contact(
        org,
        "-2+3",
        ["+12175550104"],
        first_name="=cmd|' /C calc'!A0",
        last_name="@SUM(1)",
        consent="opted_in",
    )
    # A number nobody ever asked: no consent record.
    cal = testing.create_contact(org, "S400", ["+12175550105"], first_name="Cal", last_name="Ng")
    number_block(organization=org, phone="+12175550104")

    snow = make_broadcast(org, "Snow day")
    picture = make_broadcast(org, "+1 Picture day")
    make_message(snow, ana, "+12175550101", "sent", at=local_noon(2), delivered_at=local_noon(2))
    make_message(snow, ben, "+12175550102", "ineligible", "opted_out", at=local_noon(2))
    make_message(snow, ben, "+12175550103", "ineligible", "pending_opt_in", at=local_noon(2))
    make_message(
        snow,
        evil,
        "+12175550104",
        "failed",
        "contact_account",
        at=local_noon(2),
        carrier_code="30003",
    )
    make_message(snow, cal, None, "ineligible", "no_sms_number", at=local_noon(2))
    make_message(picture, ana, "+12175550101", "not_sent_yet", at=local_noon(1))
    make_message(picture, cal, "+12175550105", "sending", at=local_noon(1))
    # Outside the default 30 days.
    make_message(snow, ana, "+12175550101", "sent", at=local_noon(40))

    secret = testing.create_contact(
        other_org,
        "S100",
        ["+12175550199"],
        first_name="Secret",
        last_name="Person",
        consent="opted_in",
    )
    other_broadcast = make_broadcast(other_org, "Shelbyville secret")
    make_message(other_broadcast, secret, "+12175550199", "sent", at=local_noon(2))
    return District(org, snow, picture, ana, ben, evil, cal, other_org, other_broadcast)


@pytest.fixture
def viewer_client(client: Any, org: Organization) -> Any:
    client.force_login(testing.create_user(org, "viewer@springfield.example.org", "viewer"))
    return client
