"""The reminder emails section of a contact's page (registered with contacts.panels)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from schoolsms.contacts.models import Contact
from schoolsms.reminders.selectors import reminders_for_contact


def contact_reminders_panel(contact: Contact, limit: int = 20) -> SafeString:
    emails = list(reminders_for_contact(contact)[:limit])
    return mark_safe(  # noqa: S308 (rendered by the template engine, which escapes)
        render_to_string("reminders/contact_history.html", {"reminder_emails": emails})
    )
