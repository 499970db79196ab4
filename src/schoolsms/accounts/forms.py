"""Forms of the Settings tab: organization, sender, users and API tokens."""

from __future__ import annotations

from typing import Any

from django import forms

from schoolsms.accounts.models import Organization, Role
from schoolsms.inputs import DB_INT_MAX


def quiet_hours_text(org: Organization) -> str:
    if org.quiet_hours_start is None or org.quiet_hours_end is None:
        return "off"
    return f"{org.quiet_hours_start:%H:%M}-{org.quiet_hours_end:%H:%M}"


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class OrganizationForm(_Form):
    name = forms.CharField(label="Name", max_length=200)
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        help_text="A name like America/Chicago. Times on every page read in this zone.",
    )
    quiet_hours = forms.CharField(
        label="Quiet hours",
        max_length=20,
        help_text=(
            "HH:MM-HH:MM in the recipient's local time (for example 21:00-08:00), or off. "
            "Non-emergency texts wait until quiet hours end."
        ),
    )


class SenderForm(_Form):
    program_name = forms.CharField(
        label="Program name", max_length=120, help_text="Named in HELP and opt-in replies."
    )
    help_contact = forms.CharField(
        label="HELP contact",
        max_length=200,
        required=False,
        help_text="An email address or phone number people can reach for help.",
    )


class UserAddForm(_Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.VIEWER)


class MemberForm(_Form):
    user_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=DB_INT_MAX)


class RoleForm(_Form):
    user_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=DB_INT_MAX)
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class TokenCreateForm(_Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="Say where it is used, for example “SIS nightly sync”.",
    )
