"""API: the caller's organizations, and how every endpoint picks the organization it acts on."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from ninja import Router, Schema
from ninja.errors import HttpError

from schoolsms.accounts.access import UserRequest
from schoolsms.accounts.models import ApiToken, Membership, Organization

router = Router(tags=["organizations"])


class OrganizationOut(Schema):
    slug: str
    name: str
    role: str
    timezone: str
    phone_region: str
    sender: str
    program_name: str
    help_contact: str
    quiet_hours: str


def _quiet_hours(org: Organization) -> str:
    if org.quiet_hours_start is None or org.quiet_hours_end is None:
        return "off"
    return f"{org.quiet_hours_start:%H:%M}-{org.quiet_hours_end:%H:%M}"


def api_memberships(request: UserRequest) -> QuerySet[Membership]:
    """The memberships the calling token acts in: its user's, within the token's organization
    (a token made before tokens had one acts in all of them)."""
    memberships = Membership.objects.filter(user_id=cast(int, request.user.pk))
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken) and token.organization_id is not None:
        memberships = memberships.filter(organization_id=token.organization_id)
    return memberships


def api_membership(
    request: UserRequest, org: str | None, roles: tuple[str, ...] | None = None
) -> Membership:
    """The caller's membership in `?org=SLUG`, or in their only organization.

    404 for an organization the caller is not a member of (it might as well not exist),
    400 when the caller has several and did not say which, 403 when the role is not enough."""
    memberships = api_memberships(request).select_related("organization", "organization__sender")
    if org:
        membership = memberships.filter(organization__slug=org).first()
        if membership is None:
            raise HttpError(404, f"no organization {org!r}")
    else:
        found = list(memberships.order_by("organization__slug")[:21])
        if not found:
            raise HttpError(403, "this token's user is not a member of any organization")
        if len(found) > 1:
            slugs = ", ".join(m.organization.slug for m in found[:20])
            raise HttpError(400, f"org is required: you belong to several organizations ({slugs})")
        membership = found[0]
    if roles is not None and membership.role not in roles:
        raise HttpError(403, f"the {membership.role} role cannot do this")
    return membership


@router.get("/organizations", response=list[OrganizationOut], summary="My organizations")
def organizations_list(request: UserRequest) -> list[OrganizationOut]:
    memberships = (
        api_memberships(request)
        .select_related("organization", "organization__sender")
        .order_by("organization__slug")
    )
    return [
        OrganizationOut(
            slug=m.organization.slug,
            name=m.organization.name,
            role=m.role,
            timezone=m.organization.timezone,
            phone_region=m.organization.phone_region,
            sender=m.organization.sender.code,
            program_name=m.organization.sender.program_name,
            help_contact=m.organization.sender.help_contact,
            quiet_hours=_quiet_hours(m.organization),
        )
        for m in memberships
    ]
