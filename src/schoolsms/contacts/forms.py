"""Forms of the Contacts tab: search and filters, CSV import."""

from __future__ import annotations

from django import forms

from schoolsms.consent.models import ConsentStatus
from schoolsms.contacts.models import ContactRole
from schoolsms.contacts.selectors import CANNOT_TAKE_SMS


class ContactSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, external ID, phone or email",
                "autocomplete": "off",
            }
        ),
    )
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "All roles"), *ContactRole.choices]
    )
    school = forms.ChoiceField(label="School", required=False, choices=[("", "All schools")])
    sms_status = forms.ChoiceField(
        label="SMS status",
        required=False,
        choices=[
            ("", "Any SMS status"),
            *ConsentStatus.choices,
            (CANNOT_TAKE_SMS, "Cannot take SMS"),
        ],
    )

    def __init__(self, *args: object, schools: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["school"].choices = [("", "All schools"), *((s, s) for s in schools)]  # type: ignore[attr-defined]


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, with a header row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
