"""Keyword recognition: whole message, any case, surrounding spaces and punctuation ignored."""

from __future__ import annotations

import pytest

from schoolsms.consent.keywords import keyword_classify


@pytest.mark.parametrize(
    "text, expected",
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        ("  Stop.  ", "opt_out"),
        ("STOP!!!", "opt_out"),
        ("Unsubscribe", "opt_out"),
        ("cancel", "opt_out"),
        ("end", "opt_out"),
        ("quit", "opt_out"),
        ("revoke", "opt_out"),
        ("optout", "opt_out"),
        ("opt out", "opt_out"),
        ("Opt   Out.", "opt_out"),
        ("stopall", "opt_out"),
        ("START", "opt_in"),
        ("yes", "opt_in"),
        ("Y", "opt_in"),
        ("unstop", "opt_in"),
        ("help", "help"),
        ("Info?", "help"),
        ("please stop texting me", None),
        ("stop it", None),
        ("yesterday", None),
        ("", None),
        ("...", None),
    ],
)
def test_keyword_classify(text: str, expected: str | None) -> None:
    assert keyword_classify(text) == expected
