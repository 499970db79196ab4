"""The contact page's section on texts with each of the contact's numbers: opt-in invitations
sent to it and what it texted to the short code."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from schoolsms.contacts.models import Contact
from schoolsms.messaging.selectors import inbound_texts, invitations_of


def contact_texts_panel(contact: Contact, limit: int = 20) -> SafeString:
    numbers = [
        {
            "phone": phone,
            "invitations": list(
                invitations_of(organization=contact.organization, phone=phone)[:limit]
            ),
            "texts": list(inbound_texts(organization=contact.organization, phone=phone))[-limit:],
        }
        for phone in contact.phones.filter(sms_enabled=True).values_list("phone", flat=True)
    ]
    return mark_safe(  # noqa: S308 (rendered by the template engine, which escapes)
        render_to_string("messaging/contact_texts.html", {"texted_numbers": numbers})
    )
