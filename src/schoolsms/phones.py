"""Phone number parsing to E.164, shared by every app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import phonenumbers

# The country whose numbers pages write in national format: the organization's, while one of
# its pages is made (accounts.access.org_required sets it); other countries' numbers are
# written in international format.
_HOME_REGION: ContextVar[str] = ContextVar("home_region", default="US")


@contextmanager
def home_region(region: str) -> Iterator[None]:
    token = _HOME_REGION.set(region)
    try:
        yield
    finally:
        _HOME_REGION.reset(token)


class InvalidPhoneNumber(ValueError):
    """Raised with a message that names the value and why it was refused."""


# A ten-digit North American number in a usual layout: (217) 555-0101, +1 217.555.0101, …
_NANP = re.compile(r"^(?:\+?1[ .-]?)?\(?([2-9][0-9]{2})\)?[ .-]*([2-9][0-9]{2})[ .-]*([0-9]{4})$")


def _nanp_fast(text: str, region: str) -> str | None:
    """The common case without phonenumbers.parse: imports read hundreds of thousands of
    numbers, and the full parse costs ~85 µs each. None means "use the full parse"."""
    if phonenumbers.country_code_for_region(region) != 1:
        return None
    match = _NANP.match(text)
    if match is None:
        return None
    national = "".join(match.groups())
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    if not phonenumbers.is_valid_number_for_region(number, region):
        return None  # maybe another NANP country's number; the full parse decides
    return "+1" + national


def to_e164(value: str, region: str = "US") -> str:
    """Parse a number typed in any common format into E.164, or raise InvalidPhoneNumber."""
    text = (value or "").strip()
    if not text:
        raise InvalidPhoneNumber("phone number is empty")
    fast = _nanp_fast(text, region)
    if fast is not None:
        return fast
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{text!r} is not a phone number ({exc._msg})") from None
    if parsed.extension:
        # A text cannot reach an extension, and dropping it silently would text the main line
        # of an office instead of the person: the same refusal in imports, pages and the API.
        raise InvalidPhoneNumber(
            f"{text!r} has an extension (x{parsed.extension}); texts cannot reach an "
            "extension: give a number that reaches the person directly"
        )
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{text!r} is not a valid phone number for region {region}")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(e164) < 8:
        # phonenumbers accepts a few six-digit German numbers; none takes a text message.
        raise InvalidPhoneNumber(f"{text!r} has fewer than the 7 digits a phone number needs")
    if len(e164) > 16:
        # phonenumbers accepts a few longer German numbers; E.164 (and our columns) stop at 15.
        raise InvalidPhoneNumber(f"{text!r} has more than the 15 digits a phone number can have")
    return e164


def display(e164: str) -> str:
    """For pages: national format for a number of the home country (the organization's, see
    home_region), international for any other."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(parsed)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == _HOME_REGION.get()
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def masked(e164: str) -> str:
    """Shows only the last four digits, for emails and other places a number may be seen."""
    digits = e164[-4:]
    return f"•••-•••-{digits}"
