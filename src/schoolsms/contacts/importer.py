"""Reading and checking a contacts CSV file, row by row, before anything is written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from schoolsms.contacts.models import ContactRole
from schoolsms.csvimport import CsvFile, RowError, parse_flag
from schoolsms.phones import InvalidPhoneNumber, to_e164

REQUIRED = ("external_id", "first_name", "last_name")
OPTIONAL = ("email", "language", "role", "school")
_PHONE_COLUMN = re.compile(r"^(phone|sms)([1-9][0-9]{0,2})$")
_ROLES = frozenset(ContactRole.values)
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_PLAIN = re.compile(r"^\+?[0-9 ().-]+$")
_PUNCTUATION = re.compile(r"[ ().-]")
_MAX_LENGTH = {
    "external_id": 64,
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "language": 10,
    "school": 200,
}


@dataclass(frozen=True)
class PhoneRow:
    phone: str  # E.164
    sms_enabled: bool


@dataclass(frozen=True)
class ContactRow:
    """One checked row: the values a contact will have after the import."""

    line: int
    external_id: str
    first_name: str
    last_name: str
    email: str
    language: str
    role: str
    school: str
    phones: tuple[PhoneRow, ...]
    active: bool = True  # False: disabled in the school system (OneRoster enabledUser=false)


class PhoneParser:
    """Numbers to E.164 for one region, each distinct digit string parsed once (a district
    file repeats a household's number on every child's row)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._seen: dict[str, tuple[str, str]] = {}

    def parse(self, raw: str) -> tuple[str, str]:
        """(E.164, "") or ("", why it is not a number)."""
        # Typed formats vary ("(217) 555-0100", "217.555.0100"); parse each digit string once.
        key = _PUNCTUATION.sub("", raw) if _PLAIN.match(raw) else raw
        parsed = self._seen.get(key)
        if parsed is None:
            try:
                parsed = (to_e164(raw, self.region), "")
            except InvalidPhoneNumber as exc:
                parsed = ("", _why(exc, raw))
            self._seen[key] = parsed
        return parsed


def _allowed(column: str) -> bool:
    return column in REQUIRED or column in OPTIONAL or bool(_PHONE_COLUMN.match(column))


def contact_rows_read(
    file: BinaryIO, *, region: str, progress: Callable[[int], None] | None = None
) -> tuple[list[ContactRow], list[RowError]]:
    """Every row checked; returns the good rows and every problem found (all rows are read
    even after a bad one, so one run reports them all)."""
    csv_file = CsvFile(file, required=REQUIRED, allowed=_allowed)
    # Pair phoneN with smsN and keep the file's numbering order (phone2 before phone10).
    slots = sorted(
        {int(m.group(2)) for c in csv_file.columns if (m := _PHONE_COLUMN.match(c))},
    )
    phone_columns = [(f"phone{n}", f"sms{n}") for n in slots]
    for phone_col, sms_col in phone_columns:
        if sms_col in csv_file.columns and phone_col not in csv_file.columns:
            csv_file.error(1, sms_col, "", f"there is no {phone_col} column for it to describe")
    numbers = PhoneParser(region)
    first_line: dict[str, int] = {}
    rows: list[ContactRow] = []
    error = csv_file.error
    count = 0
    for row in csv_file:
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
        line = row.line
        ok = True
        values: dict[str, str] = {}
        for column, limit in _MAX_LENGTH.items():
            value = row.get(column)
            if len(value) > limit:
                error(line, column, value[:40], f"is longer than {limit} characters")
                ok = False
            values[column] = value
        for column in REQUIRED:
            if not values[column]:
                error(line, column, "", "is required")
                ok = False
        external_id = values["external_id"]
        if external_id:
            if external_id in first_line:
                error(
                    line,
                    "external_id",
                    external_id,
                    f"appears again (first on line {first_line[external_id]})",
                )
                ok = False
            else:
                first_line[external_id] = line
        email = values["email"]
        if email:
            try:
                validate_email(email)
            except ValidationError:
                error(line, "email", email, "is not an email address")
                ok = False
        language = values["language"].lower() or "en"
        if not LANGUAGE_CODE.match(language):
            error(line, "language", values["language"], "is not a language code like en or es")
            ok = False
        role_text = row.get("role")
        role = role_text.lower() or ContactRole.GUARDIAN
        if role not in _ROLES:
            error(line, "role", role_text, f"must be one of {', '.join(ContactRole.values)}")
            ok = False
        phones: dict[str, bool] = {}  # E.164 → SMS enabled, in the file's order
        for phone_col, sms_col in phone_columns:
            raw = row.get(phone_col)
            flag_text = row.get(sms_col)
            flag = parse_flag(flag_text, default=True)
            if flag is None:
                error(line, sms_col, flag_text, "must be yes/no, true/false or 1/0")
                ok = False
                continue
            if not raw:
                continue
            e164, why = numbers.parse(raw)
            if why:
                error(line, phone_col, raw, why)
                ok = False
                continue
            # The same number listed twice (home and cell) is one number; SMS if either says so.
            phones[e164] = phones.get(e164, False) or flag
        if ok:
            rows.append(
                ContactRow(
                    line=line,
                    external_id=external_id,
                    first_name=values["first_name"],
                    last_name=values["last_name"],
                    email=email,
                    language=language,
                    role=role,
                    school=values["school"],
                    phones=tuple(PhoneRow(p, sms) for p, sms in phones.items()),
                )
            )
    if progress is not None:
        progress(count)
    return rows, csv_file.errors


def _why(exc: InvalidPhoneNumber, raw: str) -> str:
    # to_e164's message repeats the value; the RowError already names it.
    message = str(exc)
    prefix = f"{raw!r} "
    return message[len(prefix) :] if message.startswith(prefix) else message
