"""The people a reminder run has to tell apart, built once per test."""

from __future__ import annotations

from dataclasses import dataclass

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentStatus
from schoolsms.consent.services import consent_change, number_block
from schoolsms.contacts.models import Contact
from schoolsms.testing import create_contact

PENDING = ConsentStatus.PENDING_OPT_IN


@dataclass
class People:
    ana: Contact  # Spanish, two pending numbers and one opted-in number
    fay: Contact  # English, one pending number
    blocked: Contact  # pending but blocked
    no_email: Contact
    opted_in: Contact
    not_sms: Contact  # pending number with SMS turned off


def build_people(org: Organization) -> People:
    ana = create_contact(
        org,
        "S-1",
        ["+12175550101", "+12175550102"],
        first_name="Ana",
        last_name="Alvarez",
        consent=PENDING,
        email="ana@example.org",
        language="es",
    )
    ana.phones.create(position=3, phone="+12175550103")
    consent_change(
        sender=org.sender, phone="+12175550103", new_status=ConsentStatus.OPTED_IN, source="admin"
    )
    fay = create_contact(
        org,
        "S-2",
        ["+12175550111"],
        first_name="Fay",
        last_name="Foster",
        consent=PENDING,
        email="fay@example.org",
    )
    blocked = create_contact(
        org,
        "S-3",
        ["+12175550121"],
        first_name="Bo",
        last_name="Block",
        consent=PENDING,
        email="bo@example.org",
    )
    number_block(organization=org, phone="+12175550121")
    no_email = create_contact(org, "S-4", ["+12175550131"], first_name="Ned", consent=PENDING)
    opted_in = create_contact(
        org,
        "S-5",
        ["+12175550141"],
        first_name="Olive",
        consent=ConsentStatus.OPTED_IN,
        email="olive@example.org",
    )
    not_sms = create_contact(
        org, "S-6", [("+12175550151", False)], first_name="Sam", email="sam@example.org"
    )
    consent_change(sender=org.sender, phone="+12175550151", new_status=PENDING, source="admin")
    return People(ana, fay, blocked, no_email, opted_in, not_sms)


def add_pending(org: Organization, n: int, start: int = 160) -> list[Contact]:
    return [
        create_contact(
            org,
            f"P-{i}",
            [f"+1217555{start + i:04d}"],
            first_name=f"Parent{i}",
            last_name="Extra",
            consent=PENDING,
            email=f"parent{i}@example.org",
        )
        for i in range(n)
    ]
