from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schoolsms.messaging.text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    char_cost,
    gsm7_decode,
    gsm7_encode,
    split_segments,
    text_check,
)

QUOTE = "\N{RIGHT SINGLE QUOTATION MARK}"  # the curly apostrophe phones insert


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two
        ("€" * 81, "GSM-7", 162, 2),
        ("{}[]~|^\\\f€", "GSM-7", 20, 1),
        ("Ça coûte 5 €", "UCS-2", 12, 1),  # û is not GSM-7
        ("Café à Düsseldorf, señor ¿qué?", "GSM-7", 30, 1),
        (QUOTE * 70, "UCS-2", 70, 1),
        (QUOTE * 71, "UCS-2", 71, 2),
        (QUOTE * 134, "UCS-2", 134, 2),
        (QUOTE * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two units each
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_encoding_units_and_segments(text: str, encoding: str, units: int, segments: int) -> None:
    check = text_check(text)
    assert (check.encoding, check.units, check.segments) == (encoding, units, segments)


def test_an_escape_pair_is_never_split_across_segments() -> None:
    # 152 septets then € (2): 154 > 153, so in a split message € starts the second part.
    text = "a" * 152 + "€" + "b" * 10
    parts = split_segments(text)
    assert parts == ["a" * 152, "€" + "b" * 10]
    assert text_check(text).segments == 2


def test_a_surrogate_pair_is_never_split() -> None:
    text = QUOTE * 66 + "😀" + "xxx"  # 71 units: split
    assert split_segments(text) == [QUOTE * 66, "😀xxx"]


def test_points_out_the_characters_that_force_ucs2() -> None:
    check = text_check(f"Don{QUOTE}t forget: café ☕ tomorrow")
    assert check.encoding == "UCS-2"
    assert [(f.position, f.char) for f in check.forcing] == [(3, QUOTE), (19, "☕")]
    assert check.forcing[0].codepoint == "U+2019"
    assert text_check("plain text").forcing == ()


def test_remaining_counts_room_left_in_the_last_part() -> None:
    assert text_check("").remaining == 160
    assert text_check("a" * 150).remaining == 10
    assert text_check("a" * 161).remaining == 153 - 8
    assert text_check(QUOTE * 10).remaining == 60


gsm_text = st.text(alphabet=st.sampled_from(GSM7_BASIC + GSM7_EXTENSION), max_size=700)
any_text = st.text(max_size=400)


@given(st.one_of(gsm_text, any_text))
def test_segments_rebuild_the_text_and_respect_the_limits(text: str) -> None:
    check = text_check(text)
    parts = split_segments(text)
    assert "".join(parts) == text
    assert len(parts) == check.segments
    if check.segments > 1:
        size = 153 if check.encoding == "GSM-7" else 67
        for i, part in enumerate(parts):
            used = sum(char_cost(c, check.encoding) for c in part)
            assert used <= size
            if i < len(parts) - 1:
                # Greedy: the next character did not fit, so no part is cut short needlessly.
                assert used + char_cost(parts[i + 1][0], check.encoding) > size
    elif text:
        assert check.units <= (160 if check.encoding == "GSM-7" else 70)


@given(gsm_text)
def test_gsm_segment_count_is_the_arithmetic_one_give_or_take_a_pair(text: str) -> None:
    check = text_check(text)
    assert check.encoding == "GSM-7"
    if check.units <= 160:
        assert check.segments == (1 if text else 0)
    else:
        # Never fewer than ceil(units/153); at most one septet is wasted per part boundary.
        low = -(-check.units // 153)
        assert low <= check.segments <= -(-(check.units + check.segments) // 153)


@given(any_text)
def test_ucs2_iff_a_non_gsm_character(text: str) -> None:
    check = text_check(text)
    outside = [c for c in text if c not in GSM7_BASIC + GSM7_EXTENSION]
    assert (check.encoding == "UCS-2") == bool(outside)
    assert [f.char for f in check.forcing] == outside
    assert all(text[f.position] == f.char for f in check.forcing)


def test_gsm7_encodes_unpacked_septets_and_decodes_back() -> None:
    assert gsm7_encode("@A¤à") == bytes((0x00, 0x41, 0x24, 0x7F))
    assert gsm7_encode("{€}") == b"\x1b\x28\x1b\x65\x1b\x29"
    every = GSM7_BASIC + GSM7_EXTENSION
    assert gsm7_decode(gsm7_encode(every)) == every
    assert len(gsm7_encode(every)) == len(GSM7_BASIC) + 2 * len(GSM7_EXTENSION)
    with pytest.raises(ValueError, match=r"character 2 \(U\+0060\)"):
        gsm7_encode("a `b`")
