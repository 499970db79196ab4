"""API: look up a number's consent and history on the organization's sender; block and unblock."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.errors import HttpError

from schoolsms.accounts.access import ADMIN, UserRequest
from schoolsms.accounts.api import api_membership
from schoolsms.accounts.models import Organization
from schoolsms.consent import selectors, services
from schoolsms.consent.models import ConsentStatus
from schoolsms.phones import InvalidPhoneNumber, to_e164

router = Router(tags=["consent"])


class EventOut(Schema):
    old_status: str | None
    new_status: str
    source: str
    text: str
    actor: str | None  # the acting user's email
    created_at: dt.datetime


class ConsentOut(Schema):
    organization: str
    sender: str
    phone: str
    status: str | None  # pending / opted_in / opted_out, or null: no record on this sender
    status_label: str
    changed_at: dt.datetime | None
    blocked: bool
    history: list[EventOut]


class BlockIn(Schema):
    phone: str
    reason: str = ""


class BlockOut(Schema):
    organization: str
    phone: str
    blocked: bool
    changed: bool  # false when the number already was (or was not) blocked


def _e164(org: Organization, phone: str) -> str:
    try:
        return to_e164(phone, org.phone_region)
    except InvalidPhoneNumber as exc:
        raise HttpError(422, f"phone: {exc}") from None


@router.post("/block", response=BlockOut, summary="Block a number (admin)")
def consent_block(request: UserRequest, body: BlockIn, org: str | None = None) -> BlockOut:
    """Put a number on the organization's block list; its consent status is unchanged."""
    organization = api_membership(request, org, ADMIN).organization
    e164 = _e164(organization, body.phone)
    changed = services.number_block(
        organization=organization,
        phone=e164,
        reason=body.reason,
        actor=request.user,
    )
    return BlockOut(organization=organization.slug, phone=e164, blocked=True, changed=changed)


@router.post("/unblock", response=BlockOut, summary="Unblock a number (admin)")
def consent_unblock(request: UserRequest, body: BlockIn, org: str | None = None) -> BlockOut:
    organization = api_membership(request, org, ADMIN).organization
    e164 = _e164(organization, body.phone)
    changed = services.number_unblock(organization=organization, phone=e164)
    return BlockOut(organization=organization.slug, phone=e164, blocked=False, changed=changed)


# Registered last: a path like /block must not be read as a phone number.
@router.get("/{phone}", response=ConsentOut, summary="A number's consent")
def consent_lookup(request: UserRequest, phone: str, org: str | None = None) -> ConsentOut:
    """The number's SMS status on the organization's sender, with its full history.

    The number may be written in any common format; `org` is required when the caller
    belongs to several organizations."""
    organization = api_membership(request, org).organization
    e164 = _e164(organization, phone)
    record = selectors.consent_record_get(organization=organization, phone=e164)
    history = selectors.consent_history(organization=organization, phone=e164)
    return ConsentOut(
        organization=organization.slug,
        sender=organization.sender.code,
        phone=e164,
        status=record.status if record else None,
        status_label=ConsentStatus(record.status).label if record else "No consent record",
        changed_at=record.changed_at if record else None,
        blocked=selectors.is_blocked(organization=organization, phone=e164),
        history=[
            EventOut(
                old_status=e.old_status or None,
                new_status=e.new_status,
                source=e.source,
                text=e.text,
                actor=e.actor_label or None,
                created_at=e.created_at,
            )
            for e in history
        ],
    )
