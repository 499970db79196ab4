"""Forms of the Contacts tab: search and filters, CSV import."""

from __future__ import annotations

from django import forms

from schoolsms.contacts.models import ContactRole


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

    def __init__(self, *args: object, schools: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["school"].choices = [("", "All schools"), *((s, s) for s in schools)]  # type: ignore[attr-defined]


class ContactImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[
            ("contacts", "Contacts: a CSV file or a OneRoster bundle (.zip)"),
            ("consent", "SMS statuses (consent) from another system: a CSV file"),
        ],
        initial="contacts",
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label="File",
        help_text="CSV in UTF-8 with a header row, or the OneRoster .zip your student "
        "information system exports.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.zip,application/zip"}),
    )


class RosterSettingsForm(forms.Form):
    folder = forms.CharField(
        label="Drop folder",
        required=False,
        max_length=500,
        help_text="An absolute path on the server (an SFTP folder, for instance). The worker "
        "imports each OneRoster bundle that appears there, oldest first. Empty: no sync.",
    )
    language_column = forms.CharField(
        label="Language column",
        required=False,
        max_length=100,
        help_text="The users.csv column holding each person's language, such as "
        "metadata.language. Empty: everyone is English.",
    )
    inactivate_limit_percent = forms.IntegerField(
        label="Ask an admin when a sync would make more than this share of contacts inactive (%)",
        min_value=0,
        max_value=100,
    )
