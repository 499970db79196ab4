"""Property tests for phone number parsing (schoolsms.phones), as imports use it."""

from __future__ import annotations

import contextlib
import re

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from schoolsms.phones import InvalidPhoneNumber, display, to_e164

AREA_CODES = ("217", "312", "415", "212", "305", "512", "617", "206", "404", "713")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@st.composite
def fictional_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(how a person might type it, the E.164 it must become)."""
    area = draw(st.sampled_from(AREA_CODES))
    line = f"01{draw(st.integers(0, 99)):02d}"
    expected = f"+1{area}555{line}"
    sep = draw(st.sampled_from(["", " ", "-", ".", " - "]))
    body = draw(
        st.sampled_from(
            [
                f"{area}{sep}555{sep}{line}",
                f"({area}){sep or ' '}555{sep or '-'}{line}",
                f"({area}) 555-{line}",
            ]
        )
    )
    prefix = draw(st.sampled_from(["", "1 ", "+1 ", "1-", "+1"]))
    padding = draw(st.sampled_from(["", " ", "\t"]))
    return f"{padding}{prefix}{body}{padding}", expected


@given(fictional_numbers())
def test_common_us_formats_become_the_same_e164(case: tuple[str, str]) -> None:
    typed, expected = case
    assert to_e164(typed) == expected


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_any_text_is_either_a_valid_e164_or_refused_with_the_value_named(text: str) -> None:
    try:
        e164 = to_e164(text)
    except InvalidPhoneNumber as exc:
        assert str(exc)  # a message the import can show
        return
    assert E164.match(e164)
    assert to_e164(e164) == e164  # parsing is idempotent
    assert to_e164(display(e164)) == e164  # what pages show parses back to the same number


@given(st.from_regex(r"\A\+?[0-9 ().-]{0,25}\Z"))
def test_digit_strings_never_raise_anything_but_invalid_phone_number(text: str) -> None:
    with contextlib.suppress(InvalidPhoneNumber):
        assert E164.match(to_e164(text))


def full_parse(text: str, region: str) -> str | None:
    """The reference: phonenumbers' own parse and validation, without the fast path."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=300)
@given(
    st.from_regex(r"\A(\+?1[ .-]?)?\(?[0-9]{3}\)?[ .-]{0,2}[0-9]{3}[ .-]{0,2}[0-9]{4}\Z"),
    st.sampled_from(["US", "CA", "PR"]),
)
def test_the_fast_path_for_north_american_numbers_agrees_with_phonenumbers(
    text: str, region: str
) -> None:
    try:
        ours: str | None = to_e164(text, region)
    except InvalidPhoneNumber:
        ours = None
    assert ours == full_parse(text.strip(), region)


def test_examples() -> None:
    assert to_e164("(217) 555-0101") == "+12175550101"
    assert to_e164("020 7946 0018", "GB") == "+442079460018"
    assert display("+12175550101") == "(217) 555-0101"
    for bad in ["", "555-01", "call me", "+1 555 555 5555", "12", "+4930000000000000"]:
        try:
            to_e164(bad)
        except InvalidPhoneNumber:
            continue
        raise AssertionError(f"{bad!r} was accepted")
