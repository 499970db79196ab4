"""Checks of what people type, shared by the web pages, the API and the CLI of every app.

Each check names the parameter it refuses, so the web shows it beside the field, the API returns
it as a 400/422 and the CLI names the flag. Nothing here touches the database: a value is refused
before any row is written.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable

from django.core.exceptions import ValidationError

# The largest id, count or offset the database stores (a signed 64-bit integer: BIGINT in
# PostgreSQL, INTEGER in SQLite). A bigger number can never match a row and makes the database
# driver raise, so it is refused as input instead.
DB_INT_MAX = 2**63 - 1

# Dates people may ask about or schedule for; beyond these, converting between time zones or
# adding a day leaves what Python's datetime can hold (year 9999).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2999, 12, 31)

# Line breaks and tabs are text; every other control character (NUL, ESC, BEL, DEL, C1 …) and
# lone surrogates (not encodable as UTF-8) are not. PostgreSQL refuses NUL in text outright.
_TEXT_WHITESPACE = frozenset("\n\r\t")


class InputError(ValidationError):
    """A bad parameter; the message names it and says what is allowed.

    A ValidationError, so every caller that already reports a service's ValidationError
    (a form, the API's 400, the CLI's error line) reports this one too."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param} {message}", code="invalid_input")
        self.param = param


def control_character(text: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The first forbidden character of `text` and its position (0-based), or None.

    `multiline` allows line breaks and tabs (a message text); names allow none."""
    for position, char in enumerate(text):
        if multiline and char in _TEXT_WHITESPACE:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            return position, char
    return None


def describe_character(char: str) -> str:
    name = {"\x00": "a NUL byte", "\n": "a line break", "\r": "a carriage return", "\t": "a tab"}
    return name.get(char, f"the control character U+{ord(char):04X}")


def refuse_control_characters(param: str, text: str, *, multiline: bool = False) -> None:
    """Raise ValidationError naming `param` when `text` holds a control character."""
    found = control_character(text, multiline=multiline)
    if found is not None:
        position, char = found
        raise InputError(
            param, f"contains {describe_character(char)} at character {position + 1}; remove it"
        )


def no_control_characters(param: str, *, multiline: bool = False) -> Callable[[str], None]:
    """The same check as a form field validator."""

    def validate(text: str) -> None:
        refuse_control_characters(param, text, multiline=multiline)

    return validate


def parse_db_int(param: str, text: str | int | None, *, minimum: int = 0) -> int | None:
    """A whole number the database can store (an id, a page, an offset); None when empty."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    raw = text.strip() if isinstance(text, str) else text
    try:
        value = int(raw)
    except ValueError:
        raise InputError(param, f"{text!r} is not a whole number") from None
    check_db_int(param, value, minimum=minimum)
    return value


def check_db_int(param: str, value: int, *, minimum: int = 0) -> int:
    if value < minimum or value > DB_INT_MAX:
        raise InputError(param, f"{value} is out of range ({minimum} to {DB_INT_MAX})")
    return value


def check_date(param: str, value: dt.date) -> dt.date:
    """A date within the years this system reasons about."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise InputError(
            param, f"{day.isoformat()} is out of range ({DATE_MIN.year} to {DATE_MAX.year})"
        )
    return value


def check_schedule(param: str, at: dt.datetime) -> dt.datetime:
    """A send time within the years this system reasons about (year 9999 is not)."""
    if at.tzinfo is None:
        raise InputError(param, "must carry a time zone")
    if not DATE_MIN <= at.date() <= DATE_MAX:
        raise InputError(
            param,
            f"{at.replace(tzinfo=None).isoformat(timespec='minutes')} is out of range "
            f"(years {DATE_MIN.year} to {DATE_MAX.year})",
        )
    return at
