"""The HELP contact in the flyer's language: a Spanish flyer or email never mixes in the
English one when the sender wrote a Spanish one; the Settings page keeps both."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from schoolsms.accounts.models import HELP_CONTACT_LANGUAGES
from schoolsms.reminders.emails import reminder_content
from schoolsms.reminders.flyer import flyer_render
from schoolsms.reminders.texts import LANGUAGES

pytestmark = pytest.mark.django_db

ENGLISH = "Call the school office at 217-555-0100"
SPANISH = "Llame a la oficina escolar al 217-555-0100"


def flyer_text(org: Any, language: str) -> str:
    pdf = flyer_render(organization=org, language=language)
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_every_flyer_language_can_have_its_own_help_contact() -> None:
    assert set(HELP_CONTACT_LANGUAGES) == set(LANGUAGES) - {"en"}


def test_settings_page_saves_the_spanish_help_contact_and_flyers_use_it(
    admin_client: Any, org: Any
) -> None:
    response = admin_client.post(
        "/settings/",
        {
            "form": "sender",
            "program_name": "Springfield Alerts",
            "help_contact": ENGLISH,
            "help_contact_es": SPANISH,
        },
    )
    assert response.status_code == 302
    org.sender.refresh_from_db()
    assert org.sender.help_contacts == {"es": SPANISH}
    assert SPANISH in admin_client.get("/settings/").content.decode()
    spanish = " ".join(flyer_text(org, "es").split())
    assert SPANISH in spanish and ENGLISH not in spanish
    english = " ".join(flyer_text(org, "en").split())
    assert ENGLISH in english and SPANISH not in english
    email = reminder_content(organization=org, language="es", name="Ana", masked_phones=[])
    assert SPANISH in email.text and ENGLISH not in email.text
