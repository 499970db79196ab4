"""Forms of the Broadcasts tab: compose (text, audience, timing) and schedule a draft."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import ContactRole
from schoolsms.inputs import check_schedule, no_control_characters
from schoolsms.messaging import services

AUDIENCE_CHOICES = [
    ("all", "All contacts"),
    ("filter", "By role and school"),
    ("list", "A list of contacts (external ids)"),
]
WHEN_CHOICES = [("now", "Send now"), ("later", "Schedule for later")]
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> submits


class ScheduleField(forms.DateTimeField):
    """A datetime-local value, read in the active (organization's) time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=[LOCAL_FORMAT, "%Y-%m-%d %H:%M"], **kwargs)


def clean_schedule(form: forms.Form) -> dt.datetime | None:
    """`send_at` when the user chose "later"; it must be in the future."""
    if form.cleaned_data.get("when") != "later":
        return None
    at: dt.datetime | None = form.cleaned_data.get("send_at")
    if at is None:
        if "send_at" not in form.errors:
            form.add_error("send_at", "Choose the date and time to send it.")
        return None
    now = timezone.now()
    try:
        check_schedule("Send at", at)
    except ValidationError as exc:
        form.add_error("send_at", exc)
        return None
    if at <= now:
        form.add_error("send_at", "This time has passed; choose a time in the future.")
        return None
    return at


class BroadcastForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        validators=[no_control_characters("name")],
        help_text="For your records; recipients do not see it.",
        widget=forms.TextInput(attrs={"placeholder": "Snow day closure"}),
    )
    text = forms.CharField(
        label="Message",
        strip=False,
        validators=[no_control_characters("text", multiline=True)],
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Type the text message…"}),
    )
    audience = forms.ChoiceField(choices=AUDIENCE_CHOICES, initial="all", widget=forms.RadioSelect)
    roles = forms.MultipleChoiceField(
        choices=ContactRole.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    schools = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple
    )
    external_ids = forms.CharField(
        label="External ids",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "One per line, or separated by commas"}
        ),
    )
    emergency = forms.BooleanField(
        required=False,
        label="Emergency: send at once, even during quiet hours",
        help_text="Consent is still required: opted-out numbers never receive it.",
    )
    when = forms.ChoiceField(choices=WHEN_CHOICES, initial="now", widget=forms.RadioSelect)
    send_at = ScheduleField(required=False, label="Send at")

    def __init__(self, *args: Any, organization: Organization, schools: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["schools"].choices = [(s, s) for s in schools]  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        return services.validate_name(self.cleaned_data["name"])

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        services.validate_text(organization=self.organization, text=text)
        return text

    def audience_filters(self) -> dict[str, list[str]]:
        """The service's audience arguments for what the user chose (other inputs are ignored)."""
        data = self.cleaned_data
        kind = data.get("audience")
        return {
            "roles": list(data.get("roles") or []) if kind == "filter" else [],
            "schools": list(data.get("schools") or []) if kind == "filter" else [],
            "external_ids": (
                services.parse_external_ids(data.get("external_ids") or "")
                if kind == "list"
                else []
            ),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filters = self.audience_filters()
        kind = data.get("audience")
        if kind == "filter" and not (filters["roles"] or filters["schools"]):
            self.add_error("roles", "Choose at least one role or school.")
        elif kind == "list" and not filters["external_ids"]:
            self.add_error("external_ids", "Paste the external ids of the contacts to text.")
        else:
            try:
                services.validate_audience(organization=self.organization, **filters)
            except ValidationError as exc:
                field = "external_ids" if kind == "list" else "roles"
                self.add_error(field, exc)
        data["send_at"] = clean_schedule(self)
        return data


class ScheduleForm(forms.Form):
    """Send an existing draft now or later (the draft's page)."""

    when = forms.ChoiceField(choices=WHEN_CHOICES, initial="now", widget=forms.RadioSelect)
    send_at = ScheduleField(required=False, label="Send at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["send_at"] = clean_schedule(self)
        return data
