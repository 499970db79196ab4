"""The automatic texts (HELP reply, opt-in and opt-out confirmations, opt-in invitation): the
built-in wording in English and Spanish, an organization's own wording, and the rules both must
keep (CTIA's required content and the organization's segment limit).

Texts may say `{program}` and `{help_contact}`; they are filled in from the sender's settings
when the text is sent, so a renamed program needs no new wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from schoolsms.accounts.models import Organization, Sender
from schoolsms.consent.keywords import normalize
from schoolsms.messaging.models import ReplyKind, ReplyText
from schoolsms.messaging.text import text_check

LANGUAGES = {"en": "English", "es": "Spanish"}
DEFAULT_LANGUAGE = "en"

BUILT_IN: dict[str, dict[str, str]] = {
    "en": {
        ReplyKind.HELP: "{program}: school alerts and notices. For help contact {help_contact}. "
        "Msg & data rates may apply. Reply STOP to cancel.",
        ReplyKind.OPT_IN: "{program}: You are subscribed to school alerts. Msg frequency varies. "
        "Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
        # The one confirmation the FCC allows: it says so, and nothing else.
        ReplyKind.OPT_OUT: "{program}: You are unsubscribed and will receive no more messages.",
        ReplyKind.INVITATION: "Reply Y to get texts from {program}. Msg frequency varies. "
        "Msg & data rates may apply. HELP for help, STOP to end.",
    },
    "es": {
        ReplyKind.HELP: "{program}: avisos y alertas escolares. Ayuda: {help_contact}. "
        "Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar.",
        ReplyKind.OPT_IN: "{program}: Ya recibe alertas escolares. Frecuencia variable. "
        "Pueden aplicarse tarifas de mensajes y datos. HELP para ayuda, STOP para cancelar.",
        ReplyKind.OPT_OUT: "{program}: Se ha dado de baja y ya no recibirá mensajes.",
        ReplyKind.INVITATION: "Responda Y para recibir mensajes de {program}. Frecuencia "
        "variable. Pueden aplicarse tarifas de mensajes y datos. HELP para ayuda, STOP para "
        "terminar.",
    },
}

# CTIA's rates notice, as it reads after keywords.normalize, per language.
RATES_NOTICE = {"en": "rates may apply", "es": "tarifas"}


def language_of(value: str | None) -> str:
    """The built-in language for a contact's language ("es-MX" is Spanish); English otherwise."""
    code = (value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def program_of(sender: Sender) -> str:
    return sender.program_name or f"Messages from {sender.code}"


def help_contact_of(sender: Sender) -> str:
    return sender.help_contact or "your school office"


def reply_fill(template: str, *, sender: Sender) -> str:
    # str.replace, not format: an admin's text may hold other braces.
    return template.replace("{program}", program_of(sender)).replace(
        "{help_contact}", help_contact_of(sender)
    )


def reply_template(*, organization: Organization | None, language: str, kind: str) -> str:
    """The organization's own wording if it has one, else the built-in one."""
    language = language_of(language)
    if organization is not None:
        own = (
            ReplyText.objects.filter(organization=organization, language=language, kind=kind)
            .values_list("text", flat=True)
            .first()
        )
        if own:
            return own
    return BUILT_IN[language][kind]


def reply_text(
    *, sender: Sender, organization: Organization | None, language: str, kind: str
) -> str:
    """The text to send, filled in."""
    return reply_fill(
        reply_template(organization=organization, language=language, kind=kind), sender=sender
    )


@dataclass(frozen=True)
class _Rule:
    words: tuple[str, ...]  # each must appear (after normalize), as a whole word or phrase
    message: str


def _rules(kind: str, language: str, sender: Sender) -> list[_Rule]:
    program = _Rule((normalize(program_of(sender)),), "name the program ({program})")
    rates = _Rule((RATES_NOTICE[language],), "say message and data rates may apply")
    stop = _Rule(("stop",), "tell how to stop (STOP)")
    help_ = _Rule(("help",), "tell how to get help (HELP)")
    if kind == ReplyKind.HELP:
        contact = _Rule((normalize(help_contact_of(sender)),), "give a contact ({help_contact})")
        return [program, contact, rates, stop]
    if kind == ReplyKind.OPT_IN:
        return [program, rates, help_, stop]
    if kind == ReplyKind.INVITATION:
        return [program, _Rule(("y",), "tell how to join (reply Y)"), help_, stop]
    return [program]


def reply_problems(
    *, template: str, kind: str, language: str, organization: Organization
) -> list[str]:
    """What keeps `template` from being used as the organization's `kind` text in `language`:
    CTIA's required content, no links in an opt-out confirmation (nothing but the confirmation
    is allowed), and the segment limit broadcasts have. Empty when it may be used."""
    label = ReplyKind(kind).label
    if not template.strip():
        return [f"{label}: the text is empty"]
    sender = organization.sender
    filled = reply_fill(template, sender=sender)
    words = f" {normalize(filled)} "
    problems = [
        f"{label} must {rule.message}"
        for rule in _rules(kind, language_of(language), sender)
        if not all(f" {w} " in words for w in rule.words)
    ]
    if kind == ReplyKind.OPT_OUT and ("http" in filled.lower() or "www." in filled.lower()):
        problems.append(f"{label} may only confirm the opt-out: no links")
    check = text_check(filled)
    if check.segments > organization.segment_limit:
        problems.append(
            f"{label} is {check.segments} segments ({check.encoding}, {check.units} units) once "
            f"filled in; the limit is {organization.segment_limit}"
        )
    return problems


def reply_texts_save(
    *, organization: Organization, language: str, texts: dict[str, str], actor: User | None
) -> None:
    """Keep an organization's wording of its automatic texts in one language, all or nothing.

    Raises ValidationError (per kind) when any text breaks a rule. A text equal to the built-in
    one is not kept, so the organization follows later changes of the built-in wording."""
    if language not in LANGUAGES:
        raise ValidationError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    errors = {
        kind: problems
        for kind, template in texts.items()
        if (problems := reply_problems(
            template=template, kind=kind, language=language, organization=organization
        ))
    }  # fmt: skip
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for kind, template in texts.items():
            template = template.strip()
            mine = ReplyText.objects.filter(organization=organization, language=language, kind=kind)
            if template == BUILT_IN[language][kind]:
                mine.delete()
            else:
                ReplyText.objects.update_or_create(
                    organization=organization,
                    language=language,
                    kind=kind,
                    defaults={"text": template, "updated_by": actor},
                )
