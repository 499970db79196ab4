"""Writes for organizations, senders, users and API tokens."""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from schoolsms.accounts.emails import invitation_email_enqueue
from schoolsms.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organization,
    Role,
    Sender,
)


def parse_quiet_hours(value: str) -> tuple[dt.time | None, dt.time | None]:
    """`HH:MM-HH:MM` or `off`."""
    text = value.strip().lower()
    if text == "off":
        return None, None
    try:
        start_s, end_s = text.split("-")
        start = dt.time.fromisoformat(start_s.strip())
        end = dt.time.fromisoformat(end_s.strip())
    except ValueError:
        raise ValidationError(
            f"quiet hours {value!r} must look like 21:00-08:00, or be 'off'"
        ) from None
    if start == end:
        raise ValidationError("quiet hours must start and end at different times")
    return start, end


def validate_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {name!r} (use a name like America/Chicago)"
        ) from None
    return name


@transaction.atomic
def organization_create(
    *,
    slug: str,
    name: str,
    sender_code: str,
    program_name: str = "",
    help_contact: str = "",
    timezone: str = "America/New_York",
    quiet_hours: str = "21:00-08:00",
) -> Organization:
    """Create an organization; an existing sender code is shared, not duplicated."""
    validate_timezone(timezone)
    start, end = parse_quiet_hours(quiet_hours)
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError(f"an organization with slug {slug!r} already exists")
    sender, created = Sender.objects.get_or_create(
        code=sender_code,
        defaults={"program_name": program_name or name, "help_contact": help_contact},
    )
    if created:
        sender.full_clean()
    elif program_name or help_contact:
        sender.program_name = program_name or sender.program_name
        sender.help_contact = help_contact or sender.help_contact
        sender.save(update_fields=["program_name", "help_contact"])
    org = Organization(
        slug=slug,
        name=name,
        sender=sender,
        timezone=timezone,
        quiet_hours_start=start,
        quiet_hours_end=end,
    )
    org.full_clean()
    org.save()
    return org


def user_create(
    *, organization: Organization, email: str, role: str, password: str | None = None
) -> tuple[User, str | None]:
    """Create (or reuse) a user and give them a role in the organization.

    Returns the user and the generated password when none was given."""
    if role not in Role.values:
        raise ValidationError(f"role {role!r} must be one of {', '.join(Role.values)}")
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).strip()
    if "@" not in email:
        raise ValidationError(f"{email!r} is not an email address")
    generated = None
    with transaction.atomic():
        user: User | None = user_model.objects.filter(username__iexact=email).first()
        if user is None:
            if password is None:
                generated = password = secrets.token_urlsafe(12)
            user = user_model.objects.create_user(username=email, email=email, password=password)
        elif password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        Membership.objects.update_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
    return user, generated


def api_token_create(
    *, user: User, name: str = "default", organization: Organization | None = None
) -> str:
    """Create an API token and return the key; only its hash is kept.

    The token acts in `organization` only; without one, in the user's only organization, and
    for a user of several, in all of them (each call then names its organization)."""
    memberships = Membership.objects.filter(user=user)
    if organization is None:
        orgs = list(memberships.select_related("organization")[:2])
        organization = orgs[0].organization if len(orgs) == 1 else None
    elif not memberships.filter(organization=organization).exists():
        raise ValidationError(f"{user.username} is not a member of {organization.slug}")
    key = ApiToken.generate_key()
    ApiToken.objects.create(
        user=user,
        organization=organization,
        name=name,
        key_hash=ApiToken.hash_key(key),
        prefix=key[5:13],
    )
    return key


def organization_update(
    *, organization: Organization, name: str, timezone: str, quiet_hours: str
) -> Organization:
    """Change what an admin may change about their organization: name, time zone, quiet hours."""
    validate_timezone(timezone)
    start, end = parse_quiet_hours(quiet_hours)
    organization.name = name.strip()
    organization.timezone = timezone
    organization.quiet_hours_start, organization.quiet_hours_end = start, end
    organization.full_clean(exclude=["slug", "sender"])
    organization.save(update_fields=["name", "timezone", "quiet_hours_start", "quiet_hours_end"])
    return organization


def sender_update(*, sender: Sender, program_name: str, help_contact: str) -> Sender:
    """Change the program name and HELP contact the short code's replies use.

    The code itself is not changed here: consent belongs to it."""
    sender.program_name = program_name.strip()
    sender.help_contact = help_contact.strip()
    sender.full_clean()
    sender.save(update_fields=["program_name", "help_contact"])
    return sender


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Delete one of the user's own tokens. Returns False if it was not theirs or is gone."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return deleted > 0


def _normalized_email(email: str) -> str:
    email = get_user_model().objects.normalize_email(email.strip())
    if "@" not in email or len(email) > 150:
        raise ValidationError(f"{email!r} is not an email address")
    return email


def membership_invite(
    *, organization: Organization, email: str, role: str, invited_by: User | None
) -> Invitation | None:
    """Invite the person with this email to a role in the organization.

    An account is made for an unknown address (without a password: the invitation email lets
    them choose one). Nothing changes for the person until they accept while logged in, and the
    caller learns nothing about whether the account existed. Returns None when they are
    already a member (the members list shows that anyway)."""
    if role not in Role.values:
        raise ValidationError(f"role {role!r} must be one of {', '.join(Role.values)}")
    email = _normalized_email(email)
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username__iexact=email).first()
        if user is None:
            user = user_model.objects.create_user(username=email, email=email, password=None)
        if Membership.objects.filter(user=user, organization=organization).exists():
            return None
        invitation, _ = Invitation.objects.update_or_create(
            user=user,
            organization=organization,
            defaults={"role": role, "invited_by": invited_by},
        )
        invitation_email_enqueue(invitation=invitation)
    return invitation


def invitation_accept(*, user: User, invitation_id: int) -> Membership:
    """The invited person takes the role; the invitation is used up."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id, user=user)
        membership, _ = Membership.objects.get_or_create(
            user=user,
            organization_id=invitation.organization_id,
            defaults={"role": invitation.role},
        )
        invitation.delete()
    return membership


def invitation_decline(*, user: User, invitation_id: int) -> bool:
    deleted, _ = Invitation.objects.filter(pk=invitation_id, user=user).delete()
    return deleted > 0


def invitation_withdraw(*, organization: Organization, invitation_id: int) -> bool:
    deleted, _ = Invitation.objects.filter(pk=invitation_id, organization=organization).delete()
    return deleted > 0


def membership_remove(*, organization: Organization, user_id: int) -> Membership:
    """Take a member out of the organization: their pages and the API tokens they made for it
    stop working at once. The last admin cannot be removed."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("user")
            .get(organization=organization, user_id=user_id)
        )
        if membership.role == Role.ADMIN:
            admins = Membership.objects.filter(organization=organization, role=Role.ADMIN)
            if admins.count() <= 1:
                raise ValidationError("an organization needs at least one admin")
        membership.delete()
        ApiToken.objects.filter(user_id=user_id, organization=organization).delete()
    return membership


def membership_role_set(*, organization: Organization, user_id: int, role: str) -> Membership:
    """Change a member's role; the last admin of an organization cannot stop being one."""
    if role not in Role.values:
        raise ValidationError(f"role {role!r} must be one of {', '.join(Role.values)}")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(
            organization=organization, user_id=user_id
        )
        if membership.role == Role.ADMIN and role != Role.ADMIN:
            admins = Membership.objects.filter(organization=organization, role=Role.ADMIN)
            if admins.count() <= 1:
                raise ValidationError("an organization needs at least one admin")
        Membership.objects.filter(pk=membership.pk).update(role=role)
        membership.role = role
    return membership


def organization_invitations_set(*, organization: Organization, after_import: bool) -> None:
    """Whether each contact import ends with opt-in invitations to new Pending Opt-In numbers."""
    Organization.objects.filter(pk=organization.pk).update(invite_after_import=after_import)
    organization.invite_after_import = after_import
