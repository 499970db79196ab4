"""Builders for report tests: broadcasts and message rows written directly (the pipeline is not
under test here), respecting the Message constraints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import Contact
from schoolsms.messaging.models import Broadcast, Message


def make_broadcast(org: Organization, name: str, **fields: Any) -> Broadcast:
    fields.setdefault("text", f"{name}: school news")
    fields.setdefault("status", "complete")
    return Broadcast.objects.create(organization=org, name=name, **fields)


def make_message(
    broadcast: Broadcast,
    contact: Contact | None,
    phone: str | None,
    result: str = "sent",
    reason: str = "",
    *,
    at: dt.datetime | None = None,
    carrier_code: str = "",
    delivered_at: dt.datetime | None = None,
) -> Message:
    when = at or timezone.now() - dt.timedelta(hours=1)
    return Message.objects.create(
        broadcast=broadcast,
        organization=broadcast.organization,
        sender=broadcast.organization.sender,
        contact=contact,
        phone=phone,
        result=result,
        reason=reason,
        carrier_code=carrier_code,
        created_at=when,
        updated_at=when,
        sent_at=when if result in ("sent", "failed") else None,
        delivered_at=delivered_at,
    )
