"""Builders for the broadcast tests: an audience of contacts and message rows in given results."""

from __future__ import annotations

from django.utils import timezone

from schoolsms import testing
from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import Broadcast, DeliveryResult, Message


def make_audience(org: Organization) -> None:
    """Five contacts: guardians and staff at two schools; S1 has two SMS numbers."""
    testing.create_contact(
        org,
        "S1",
        ["+12025550101", "+12025550102"],
        role="guardian",
        school="Lincoln Elementary",
        consent="opted_in",
    )
    testing.create_contact(
        org,
        "S2",
        ["+12025550103"],
        role="guardian",
        school="Lincoln Elementary",
        consent="opted_in",
    )
    testing.create_contact(
        org, "S3", ["+12025550104"], role="guardian", school="Roosevelt High", consent="opted_in"
    )
    testing.create_contact(
        org, "T1", ["+12025550105"], role="staff", school="Roosevelt High", consent="opted_in"
    )
    testing.create_contact(
        org, "T2", [("+12025550106", False)], role="staff", school="Lincoln Elementary"
    )


def add_messages(broadcast: Broadcast, result: str, reason: str = "", n: int = 1) -> None:
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            broadcast=broadcast,
            organization=broadcast.organization,
            sender=broadcast.organization.sender,
            phone=f"+1202555{i:04d}",
            result=result,
            reason=reason,
            created_at=now,
            updated_at=now,
            sent_at=now if result == DeliveryResult.SENT else None,
        )
        for i in range(n)
    )
