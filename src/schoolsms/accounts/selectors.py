"""Reads that decide which organizations a user may see and what they may do there."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils import timezone

from schoolsms.accounts.models import ApiToken, Invitation, Membership, Organization


def organizations_for_user(user: User | AnonymousUser) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return (
        Organization.objects.filter(memberships__user=user)
        .select_related("sender")
        .order_by("name")
    )


def invitations_pending_count(user: User | AnonymousUser) -> int:
    if not user.is_authenticated:
        return 0
    return Invitation.objects.filter(user=user).count()


def membership_get(*, user: User | AnonymousUser, organization: Organization) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, organization=organization).first()


def api_token_for_key(key: str) -> ApiToken | None:
    """The token with this key, of an active user; records that it was used."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def user_for_api_key(key: str) -> User | None:
    token = api_token_for_key(key)
    return token.user if token is not None else None
