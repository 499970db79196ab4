"""Organizations, the senders (short codes) they text from, and who may do what in them."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from schoolsms.constraints import one_of


class Sender(models.Model):
    """A short code or long code. Consent belongs to the sender, so organizations sharing one
    short code share every number's opt-in and opt-out."""

    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"^\+?[0-9]{3,15}$", "A sender is a short code or a phone number.")
        ],
    )
    program_name = models.CharField(max_length=120, blank=True)
    help_contact = models.CharField(max_length=200, blank=True)
    # Messages per second shared by every worker; 0 means no limit.
    mps = models.PositiveIntegerField(default=100)
    # Which carrier gateway sends for this sender (a key of carriers.registry).
    gateway = models.CharField(max_length=40, default="simulator")
    gateway_options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class Organization(models.Model):
    """A district or a school."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="America/New_York")
    phone_region = models.CharField(max_length=2, default="US")
    sender = models.ForeignKey(Sender, on_delete=models.PROTECT, related_name="organizations")
    # Quiet hours in the recipient's local time; both empty means no quiet hours.
    quiet_hours_start = models.TimeField(null=True, blank=True, default=dt.time(21, 0))
    quiet_hours_end = models.TimeField(null=True, blank=True, default=dt.time(8, 0))
    segment_limit = models.PositiveSmallIntegerField(default=3)
    # After each contact import, text an opt-in invitation to Pending Opt-In numbers never
    # invited (messaging.invitations).
    invite_after_import = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                    | models.Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False)
                ),
                name="organization_quiet_hours_both_or_neither",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_hours_start is not None and self.quiet_hours_end is not None


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SENDER = "sender", "Sender"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """A user's role in one organization: admin (everything), sender (broadcasts and reports),
    viewer (reports only)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
            models.CheckConstraint(
                condition=one_of("role", Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.role}"

    @property
    def can_send(self) -> bool:
        return self.role in (Role.ADMIN, Role.SENDER)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Invitation(models.Model):
    """An admin's offer of a role in their organization to an account (existing or made for the
    invitation). Nothing changes for the person until they accept it while logged in; then it
    becomes a Membership and is deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="invitation_unique"),
            models.CheckConstraint(
                condition=one_of("role", Role.values), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} invited to {self.organization} as {self.role}"


class ApiToken(models.Model):
    """A bearer token for the JSON API, acting as its user in one organization (the one it was
    made for; tokens older than that rule have none and act in all the user's organizations).
    Only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, default="default")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def generate_key() -> str:
        return "ssms_" + secrets.token_urlsafe(32)
