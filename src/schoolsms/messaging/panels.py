"""The contact page's section on texts with each of the contact's numbers: opt-in invitations
sent to it and what it texted to the short code."""

from __future__ import annotations

import zoneinfo
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from schoolsms.contacts.models import Contact
from schoolsms.messaging.selectors import contact_messages_first, inbound_texts, invitations_of


def contact_texts_panel(contact: Contact, limit: int = 20) -> SafeString:
    count, first = contact_messages_first(contact=contact)
    sms_log_url = ""
    if first is not None:
        # The SMS Log from the day of the first message, in the organization's time zone.
        day = first.astimezone(zoneinfo.ZoneInfo(contact.organization.timezone)).date()
        query = urlencode({"q": contact.external_id, "from": day.isoformat()})
        sms_log_url = f"{reverse('reports:sms-log')}?{query}"
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
        render_to_string(
            "messaging/contact_texts.html",
            {"texted_numbers": numbers, "message_count": count, "sms_log_url": sms_log_url},
        )
    )
