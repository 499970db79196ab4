"""API: contacts search and detail with each number's consent; the import (importapi) beside."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema
from ninja.errors import HttpError

from schoolsms.accounts.access import UserRequest
from schoolsms.accounts.api import api_membership, api_memberships
from schoolsms.apiutil import DbId
from schoolsms.contacts import importapi, selectors
from schoolsms.contacts.models import Contact, ContactRole
from schoolsms.inputs import DB_INT_MAX

router = Router(tags=["contacts"])
router.add_router("", importapi.router)

MAX_PAGE_SIZE = 500


class NumberOut(Schema):
    position: int
    phone: str
    sms_enabled: bool
    consent_status: str | None  # pending / opted_in / opted_out, or null: no record
    consent_status_label: str
    consent_changed_at: dt.datetime | None
    blocked: bool


class ContactOut(Schema):
    id: int
    organization: str
    external_id: str
    first_name: str
    last_name: str
    email: str
    language: str
    role: str
    school: str
    numbers: list[NumberOut]


class ContactPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ContactOut]


class ContactFilters(Schema):
    org: str | None = None
    q: str = ""
    role: ContactRole | None = None
    school: str = ""
    page: int = 1
    page_size: int = 50


def _number(state: selectors.NumberState) -> NumberOut:
    return NumberOut(
        position=state.position,
        phone=state.phone,
        sms_enabled=state.sms_enabled,
        consent_status=state.status,
        consent_status_label=state.status_label,
        consent_changed_at=state.changed_at,
        blocked=state.blocked,
    )


def _contact(contact: Contact, slug: str, numbers: list[selectors.NumberState]) -> ContactOut:
    return ContactOut(
        id=contact.pk,
        organization=slug,
        external_id=contact.external_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        language=contact.language,
        role=contact.role,
        school=contact.school,
        numbers=[_number(n) for n in numbers],
    )


@router.get("", response=ContactPage, summary="List and search contacts")
def contacts_list(request: UserRequest, filters: Query[ContactFilters]) -> ContactPage:
    """Search by name, external id, email, or a phone number in any format; paged.

    `org` (a slug) is required when the token's user belongs to several organizations."""
    if filters.page < 1:
        raise HttpError(422, "page must be 1 or more")
    if not 1 <= filters.page_size <= MAX_PAGE_SIZE:
        raise HttpError(422, f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    org = api_membership(request, filters.org).organization
    qs = selectors.contact_search(
        organization=org,
        query=filters.q,
        role=filters.role.value if filters.role else "",
        school=filters.school,
    )
    count = qs.count()
    start = (filters.page - 1) * filters.page_size
    # A page beyond what the database can count to is past the last one: empty, not an overflow.
    contacts = list(qs[start : start + filters.page_size]) if start <= DB_INT_MAX else []
    numbers = selectors.numbers_for_contacts(organization=org, contacts=contacts)
    return ContactPage(
        count=count,
        page=filters.page,
        page_size=filters.page_size,
        results=[_contact(c, org.slug, numbers[c.pk]) for c in contacts],
    )


@router.get("/{int:contact_id}", response=ContactOut, summary="One contact")
def contact_detail(request: UserRequest, contact_id: DbId) -> ContactOut:
    """A contact of any of the caller's organizations, with its numbers and their consent."""
    org_ids = api_memberships(request).values("organization_id")
    contact = (
        Contact.objects.filter(pk=contact_id, organization_id__in=org_ids)
        .select_related("organization", "organization__sender")
        .first()
    )
    if contact is None:
        raise HttpError(404, "no such contact")
    numbers = selectors.contact_numbers(contact=contact, with_history=False)
    return _contact(contact, contact.organization.slug, numbers)
