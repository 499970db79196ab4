"""The opt-in flyer: one page of real text in each built-in language, with every CTIA element."""

from __future__ import annotations

import io

import pytest
import segno
from pypdf import PdfReader

from schoolsms.reminders.flyer import FlyerInfo, flyer_render_info
from schoolsms.reminders.texts import flyer_language, qr_payload, sms_link

INFO = FlyerInfo(
    org_name="Springfield District",
    program="Springfield Schools Alerts",
    code="67587",
    help_contact="help@springfield.example.org",
)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert reader.pages[0].mediabox.width == pytest.approx(612, abs=1)  # US Letter, 8.5 in
    return reader.pages[0].extract_text()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Text Y to 67587",
                "Msg & data rates may apply.",
                "Message frequency varies.",
                "Text STOP to 67587 to stop at any time.",
                "Text HELP to 67587 for help.",
                "help@springfield.example.org",
                "news, reminders and",
            ],
        ),
        (
            "es",
            [
                "Envíe Y al 67587",
                "Pueden aplicarse tarifas de mensajes y datos.",
                "La frecuencia de los mensajes varía.",
                "Envíe STOP al 67587 para dejar de recibirlos en cualquier momento.",
                "Envíe HELP al 67587 para obtener ayuda.",
                "¿Preguntas? Comuníquese con help@springfield.example.org.",
                "Qué recibirá",
            ],
        ),
    ],
)
def test_flyer_text_in_each_language(language: str, expected: list[str]):
    text = text_of(flyer_render_info(info=INFO, language=language))
    assert "Springfield District" in text and "Springfield Schools Alerts" in text
    for sentence in expected:
        assert sentence in text


def test_long_names_and_long_codes_still_fit_one_page():
    info = FlyerInfo(
        org_name="The Consolidated Independent School District of Springfield and Shelbyville",
        program="District Alerts",
        code="+15555550100",
        help_contact="",
    )
    text = text_of(flyer_render_info(info=info, language="es"))
    assert "+15555550100" in text and "¿Preguntas?" not in text  # no contact, no line


def test_qr_code_opens_a_text_to_the_short_code_with_the_opt_in_word():
    assert qr_payload("67587") == "SMSTO:67587:Y"
    assert sms_link("67587") == "sms:67587?&body=Y"
    # Small enough to stay a coarse, easily scanned symbol on paper.
    assert segno.make(qr_payload("67587"), error="m", micro=False).version <= 2


@pytest.mark.parametrize(
    ("value", "language"),
    [("es", "es"), ("es-MX", "es"), ("ES_us", "es"), ("Spanish", "es"), ("Español", "es"),
     ("en", "en"), ("", "en"), ("vi", "en"), ("fr-CA", "en")],
)  # fmt: skip
def test_contact_language_maps_to_a_flyer_language_or_english(value: str, language: str):
    assert flyer_language(value) == language
