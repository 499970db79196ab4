"""The reminder email itself: subject, plain-text and HTML bodies, the flyer attached."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string

from schoolsms.accounts.models import Organization
from schoolsms.reminders.flyer import FlyerInfo, flyer_filename, flyer_render_info
from schoolsms.reminders.texts import COPIES, OPT_IN_WORD, sms_link


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def _context(
    *, organization: Organization, language: str, name: str, masked_phones: list[str]
) -> dict[str, Any]:
    info = FlyerInfo.for_organization(organization, language)
    copy = COPIES[language]
    fmt = {
        "org": info.org_name,
        "program": info.program,
        "code": info.code,
        "word": OPT_IN_WORD,
        "name": name,
        "contact": info.help_contact,
    }
    return {
        "lang": language,
        "info": info,
        "copy": copy,
        "phones": masked_phones,
        "greeting": copy.greeting.format(**fmt),
        "intro": copy.intro.format(**fmt),
        "text_word_to": copy.text_word_to.format(**fmt),
        "from_each_phone": copy.from_each_phone.format(**fmt),
        "what": copy.what.format(**fmt),
        "stop": copy.stop.format(**fmt),
        "help": copy.help.format(**fmt),
        "help_contact": copy.help_contact.format(**fmt) if info.help_contact else "",
        "signature": copy.signature.format(**fmt),
        "sms_link": sms_link(info.code),
        "subject": copy.subject.format(**fmt),
    }


def reminder_content(
    *, organization: Organization, language: str, name: str, masked_phones: list[str]
) -> EmailContent:
    context = _context(
        organization=organization, language=language, name=name, masked_phones=masked_phones
    )
    return EmailContent(
        subject=context["subject"],
        text=render_to_string("reminders/email/reminder.txt", context),
        html=render_to_string("reminders/email/reminder.html", context),
    )


def _reply_to(help_contact: str) -> list[str] | None:
    """Replies go to the HELP contact when it is an email address, not to a no-reply box."""
    for word in help_contact.replace(",", " ").split():
        try:
            validate_email(word)
        except ValidationError:
            continue
        return [word]
    return None


class FlyerCache:
    """Renders each language's flyer once per run, not once per email."""

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        self._pdfs: dict[str, bytes] = {}

    def get(self, language: str) -> bytes:
        if language not in self._pdfs:
            info = FlyerInfo.for_organization(self.organization, language)
            self._pdfs[language] = flyer_render_info(info=info, language=language)
        return self._pdfs[language]


def reminder_message(
    *,
    organization: Organization,
    language: str,
    name: str,
    address: str,
    masked_phones: list[str],
    flyers: FlyerCache,
) -> EmailMultiAlternatives:
    content = reminder_content(
        organization=organization, language=language, name=name, masked_phones=masked_phones
    )
    message = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        reply_to=_reply_to(organization.sender.help_contact),
    )
    message.attach_alternative(content.html, "text/html")
    message.attach(
        flyer_filename(organization=organization, language=language),
        flyers.get(language),
        "application/pdf",
    )
    return message
