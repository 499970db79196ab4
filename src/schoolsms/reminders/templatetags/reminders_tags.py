"""`{% contact_reminders contact %}`: a contact's reminder emails, for their history page."""

from __future__ import annotations

from typing import Any

from django import template

from schoolsms.contacts.models import Contact
from schoolsms.reminders.selectors import reminders_for_contact

register = template.Library()


@register.inclusion_tag("reminders/contact_history.html")
def contact_reminders(contact: Contact, limit: int = 20) -> dict[str, Any]:
    return {"reminder_emails": list(reminders_for_contact(contact)[:limit])}
