"""Phone number parsing to E.164, shared by every app."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """Raised with a message that names the value and why it was refused."""


def to_e164(value: str, region: str = "US") -> str:
    """Parse a number typed in any common format into E.164, or raise InvalidPhoneNumber."""
    text = (value or "").strip()
    if not text:
        raise InvalidPhoneNumber("phone number is empty")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{text!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{text!r} is not a valid phone number for region {region}")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(e164) > 16:
        # phonenumbers accepts a few longer German numbers; E.164 (and our columns) stop at 15.
        raise InvalidPhoneNumber(f"{text!r} has more than the 15 digits a phone number can have")
    return e164


def display(e164: str) -> str:
    """A friendly national or international rendering for pages."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(parsed)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == "US"
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def masked(e164: str) -> str:
    """Shows only the last four digits, for emails and other places a number may be seen."""
    digits = e164[-4:]
    return f"•••-•••-{digits}"
