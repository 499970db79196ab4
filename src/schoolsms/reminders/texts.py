"""The words of the opt-in flyer and the reminder email, in each built-in language.

The keywords (Y, STOP, HELP) stay in English in every language: they are what the short code
understands. The CTIA rules ask for the program name, the message frequency, "Msg & data rates
may apply" and HELP / STOP instructions wherever consent is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

OPT_IN_WORD = "Y"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Copy:
    language: str
    language_name: str
    headline: str
    text_word_to: str  # "Text {word} to {code}"
    how: str
    scan: str
    what_title: str
    what: str  # {program} {org}
    frequency: str
    rates: str
    stop: str  # {code}
    help: str  # {code}
    help_contact: str  # {contact}
    steps: tuple[str, str, str]  # {word} {code}
    footer: str
    # Email
    subject: str  # {org} {word} {code}
    greeting: str  # {name}
    intro: str  # {org} {program}
    numbers_title: str
    from_each_phone: str
    tap_link: str
    attached: str
    ignore: str
    signature: str  # {org}


COPIES: dict[str, Copy] = {
    "en": Copy(
        language="en",
        language_name="English",
        headline="Get school text messages",
        text_word_to="Text {word} to {code}",
        how="Send the word {word} to {code} from each phone that should get our texts.",
        scan="Or scan this code with your phone's camera: it opens a text to {code} with {word} "
        "already typed. Just press Send.",
        what_title="What you will get",
        what="{program}: news, reminders and emergency alerts from {org}.",
        frequency="Message frequency varies.",
        rates="Msg & data rates may apply.",
        stop="Text STOP to {code} to stop at any time.",
        help="Text HELP to {code} for help.",
        help_contact="Questions? Contact {contact}.",
        steps=(
            "Open the text messages app on your phone.",
            "Start a new message to {code}.",
            "Type {word} and press Send.",
        ),
        footer="We will never share your number. Consent is not a condition of any purchase.",
        subject="{org}: text {word} to {code} to get school text messages",
        greeting="Dear {name},",
        intro="{org} sends news, reminders and emergency alerts by text message ({program}). "
        "These numbers of yours have not been confirmed yet, so they do not get our texts:",
        numbers_title="Your numbers waiting for confirmation",
        from_each_phone="To confirm, text {word} to {code} from each of these phones.",
        tap_link="On your phone? Tap here to open the text message",
        attached="The attached flyer has the same instructions and a QR code to scan.",
        ignore="If you do not want our texts, you can ignore this email.",
        signature="{org}",
    ),
    "es": Copy(
        language="es",
        language_name="Español",
        headline="Reciba los mensajes de texto de la escuela",
        text_word_to="Envíe {word} al {code}",
        how="Envíe la palabra {word} al {code} desde cada teléfono en el que quiera recibir "
        "nuestros mensajes.",
        scan="O escanee este código con la cámara de su teléfono: se abrirá un mensaje al {code} "
        "con {word} ya escrito. Solo tiene que pulsar Enviar.",
        what_title="Qué recibirá",
        what="{program}: noticias, recordatorios y alertas de emergencia de {org}.",
        frequency="La frecuencia de los mensajes varía.",
        rates="Pueden aplicarse tarifas de mensajes y datos.",
        stop="Envíe STOP al {code} para dejar de recibirlos en cualquier momento.",
        help="Envíe HELP al {code} para obtener ayuda.",
        help_contact="¿Preguntas? Comuníquese con {contact}.",
        steps=(
            "Abra la aplicación de mensajes de texto de su teléfono.",
            "Escriba un mensaje nuevo al {code}.",
            "Escriba {word} y pulse Enviar.",
        ),
        footer="Nunca compartiremos su número. Dar su consentimiento no es condición para "
        "ninguna compra.",
        subject="{org}: envíe {word} al {code} para recibir los mensajes de texto de la escuela",
        greeting="Estimado/a {name}:",
        intro="{org} envía noticias, recordatorios y alertas de emergencia por mensaje de texto "
        "({program}). Estos números suyos aún no están confirmados, por lo que no reciben "
        "nuestros mensajes:",
        numbers_title="Sus números pendientes de confirmación",
        from_each_phone="Para confirmar, envíe {word} al {code} desde cada uno de estos teléfonos.",
        tap_link="¿Está en su teléfono? Toque aquí para abrir el mensaje de texto",
        attached="El folleto adjunto tiene las mismas instrucciones y un código QR para escanear.",
        ignore="Si no desea recibir nuestros mensajes, puede ignorar este correo.",
        signature="{org}",
    ),
}

LANGUAGES = tuple(COPIES)

_ALIASES = {"english": "en", "spanish": "es", "español": "es", "espanol": "es", "spa": "es"}


def flyer_language(value: str) -> str:
    """The built-in flyer language for a contact's language (`es-MX`, `Spanish`…), else `en`."""
    text = (value or "").strip().lower()
    text = _ALIASES.get(text, text)
    base = text.replace("_", "-").split("-")[0]
    return base if base in COPIES else DEFAULT_LANGUAGE


def qr_payload(code: str, word: str = OPT_IN_WORD) -> str:
    """What the flyer's QR code holds.

    `SMSTO:<number>:<text>` is the de-facto QR format for a prefilled text: the iOS camera and
    Android's camera / Lens both open the messaging app with it. The RFC 5724 `sms:` URI with a
    body is read differently by the two (iOS wants `&body=`, Android `?body=`), so it is only used
    for the tap link in the email, in the `sms:CODE?&body=Y` form that both accept."""
    return f"SMSTO:{code}:{word}"


def sms_link(code: str, word: str = OPT_IN_WORD) -> str:
    return f"sms:{code}?&body={word}"
