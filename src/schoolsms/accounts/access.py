"""Decides, for every web request, which organization it acts on and whether the role allows it."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from schoolsms.accounts.models import Membership, Organization, Role
from schoolsms.phones import home_region

SESSION_KEY = "schoolsms_org_id"
View = TypeVar("View", bound=Callable[..., HttpResponseBase])

# Which roles may use a part of the product.
READ = (Role.ADMIN, Role.SENDER, Role.VIEWER)
SEND = (Role.ADMIN, Role.SENDER)
ADMIN = (Role.ADMIN,)


class UserRequest(HttpRequest):
    """A request from a known user: an API call with a valid token (schoolsms.api sets
    request.user), or a page behind `org_required`."""

    user: User


class OrgRequest(UserRequest):
    """A request `org_required` let through: a logged-in member acting on one organization.
    Views behind `org_required` take this type, so `request.organization` is typed once."""

    membership: Membership
    organization: Organization


def current_membership(request: HttpRequest) -> Membership | None:
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=request.user).select_related(
        "organization", "organization__sender"
    )
    wanted = request.session.get(SESSION_KEY)
    if wanted is not None:
        chosen = memberships.filter(organization_id=wanted).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("organization__name").first()


def org_required(roles: tuple[str, ...] = READ) -> Callable[[View], View]:
    """Sets request.organization and request.membership (see OrgRequest); refuses roles not
    in `roles`. The view runs in the organization's time zone and phone region."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = current_membership(request)
            if membership is None:
                raise PermissionDenied("You are not a member of any organization.")
            if membership.role not in roles:
                raise PermissionDenied("Your role does not allow this page.")
            member = cast(OrgRequest, request)
            member.membership = membership
            member.organization = membership.organization
            # The organization's page: times read and shown in its time zone, numbers of its
            # country in national format.
            org = member.organization
            with timezone.override(zoneinfo.ZoneInfo(org.timezone)), home_region(org.phone_region):
                return view(member, *args, **kwargs)

        return cast(View, wrapper)

    return decorator
