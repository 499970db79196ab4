"""Keyword recognition: whole message, any case, surrounding spaces and punctuation ignored,
look-alike characters read as the letters they imitate; and texts that plainly ask to stop."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schoolsms.consent.keywords import (
    CONFUSABLES,
    HELP,
    OPT_IN,
    OPT_OUT,
    OPT_OUT_PHRASES,
    OPT_OUT_WHOLE,
    inbound_classify,
    keyword_classify,
    normalize,
    opt_out_requested,
)

KEYWORDS = [(k, "opt_out") for k in OPT_OUT] + [(k, "opt_in") for k in OPT_IN]
KEYWORDS += [(k, "help") for k in HELP]
EDGES = " \t\n.!?,;:-\"'()*~…¡¿\u00a0\u3000"
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
# Every look-alike for each Latin letter the map knows, plus the full-width form of it.
LOOK_ALIKES: dict[str, list[str]] = {}
for fake, real in CONFUSABLES.items():
    LOOK_ALIKES.setdefault(real, []).append(fake)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("STOP", "opt_out"),
        ("  Stop.  ", "opt_out"),
        ("STOP!!!", "opt_out"),
        ("Opt   Out.", "opt_out"),
        ("Y", "opt_in"),
        ("Info?", "help"),
        ("ＳＴＯＰ", "opt_out"),  # full-width
        ("SТОР", "opt_out"),  # Cyrillic Т, О, Р
        ("ΥΕS", "opt_in"),  # Greek Upsilon, Epsilon
        ("S\u200bT\u200bO\u200bP", "opt_out"),  # zero-width spaces
        ("please stop texting me", None),
        ("stop it", None),
        ("yesterday", None),
        ("", None),
        ("...", None),
    ],
)
def test_keyword_classify(text: str, expected: str | None) -> None:
    assert keyword_classify(text) == expected


@st.composite
def _typed(draw: st.DrawFn, word: str, *, look_alikes: bool) -> str:
    """`word` as a phone might send it: any casing, spaces between words doubled, look-alike
    letters, invisible characters, then punctuation and spaces around it."""
    out = []
    for char in word:
        if char == " ":
            out.append(draw(st.sampled_from([" ", "  ", "\t", " \u200b "])))
            continue
        char = draw(st.sampled_from([char.upper(), char.lower()]))
        if look_alikes:
            options = [char, chr(ord(char) + 0xFEE0), *LOOK_ALIKES.get(char, [])]
            char = draw(st.sampled_from(options))
            char += draw(st.sampled_from(["", "", *ZERO_WIDTH]))
        out.append(char)
    before = draw(st.text(alphabet=EDGES, max_size=4))
    after = draw(st.text(alphabet=EDGES, max_size=4))
    return before + "".join(out) + after


@given(data=st.data(), pair=st.sampled_from(KEYWORDS))
def test_any_casing_spacing_and_punctuation_is_the_keyword(
    data: st.DataObject, pair: tuple[str, str]
) -> None:
    word, kind = pair
    assert keyword_classify(data.draw(_typed(word, look_alikes=False))) == kind


@given(data=st.data(), pair=st.sampled_from(KEYWORDS))
def test_look_alike_characters_are_the_keyword(data: st.DataObject, pair: tuple[str, str]) -> None:
    word, kind = pair
    assert keyword_classify(data.draw(_typed(word, look_alikes=True))) == kind


@given(
    data=st.data(),
    pair=st.sampled_from(KEYWORDS),
    extra=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6),
    glue=st.sampled_from(["", " ", " the ", "-"]),
)
def test_a_keyword_with_more_words_is_no_keyword(
    data: st.DataObject, pair: tuple[str, str], extra: str, glue: str
) -> None:
    word, _ = pair
    text = data.draw(_typed(word, look_alikes=True)).rstrip(EDGES) + glue + extra
    if normalize(text) in {k.lower() for k, _ in KEYWORDS}:
        return  # "opt" + " " + "out" is a keyword again; nothing to check
    assert keyword_classify(text) is None


@given(st.text())
def test_any_text_is_read_without_error_and_normalizing_twice_changes_nothing(text: str) -> None:
    assert inbound_classify(text) in (None, "opt_out", "opt_in", "help")
    assert normalize(normalize(text)) == normalize(text)


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "Please stop texting me!!",
        "No more texts.",
        "Remove me from this list",
        "Can you take me off your list?",
        "I want to unsubscribe",
        "please stop",
        "Do not text me again",
        "hi. stop sending me messages",
        "No, stop texting me.",
        "Ya no me manden mensajes",
        "ya no me envíen mensajes por favor",
        "No más mensajes",
        "Bórrenme de la lista",
        "Quítenme de la lista, gracias",
        "Dejen de enviarme mensajes",
        "ＰＬＥＡＳＥ ＳＴＯＰ ＴＥＸＴＩＮＧ ＭＥ",
        "STOP STOP",
        "Stop please!",
        "Unsubscribe, thank you",
        "opt out please",
        "Cancelar por favor",
        "ALTO",
    ],
)
def test_texts_that_plainly_ask_to_stop_opt_out(text: str) -> None:
    assert inbound_classify(text) == "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "don't stop",
        "Don't stop texting me, these are great",
        "stop by the office at 3",
        "Please stop by the office",
        "bus stop",
        "Where is the bus stop?",
        "I never said stop texting me",
        "no dejen de enviarme mensajes",
        "what time is pickup?",
        "yes please, keep them coming",
        "the end of the day",
        "cancel the meeting",
        "el alto de la escuela",
        "thank you",
        "please",
    ],
)
def test_texts_that_do_not_ask_to_stop_change_nothing(text: str) -> None:
    assert inbound_classify(text) is None


@given(data=st.data(), phrase=st.sampled_from(OPT_OUT_PHRASES + OPT_OUT_WHOLE))
def test_every_listed_phrase_counts_however_it_is_typed(data: st.DataObject, phrase: str) -> None:
    assert opt_out_requested(data.draw(_typed(phrase, look_alikes=True)))


@given(phrase=st.sampled_from(OPT_OUT_PHRASES), negation=st.sampled_from(["don't", "never", "no"]))
def test_a_negated_phrase_does_not_count(phrase: str, negation: str) -> None:
    assert not opt_out_requested(f"{negation} {phrase}")
