"""What a text sent to a sender asks for: the keywords of reference §3 (STOP, START, HELP …)
and the longer texts that plainly ask to stop, which the FCC counts as revoking consent.

Texts are compared after `normalize`: NFKC (full-width letters, ligatures), invisible format
characters dropped (zero-width spaces, joiners, soft hyphens), look-alike letters from Cyrillic
and Greek mapped to the Latin ones they imitate, accents dropped, case folded.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Keyword = Literal["opt_out", "opt_in", "help"]

OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT")
OPT_IN = ("START", "YES", "Y", "UNSTOP")
HELP = ("HELP", "INFO")

# Longer texts that plainly ask to stop (FCC 47 CFR 64.1200(a)(10): "any reasonable means").
# Written as they read after `normalize` (lower case, no accents, no apostrophes, punctuation
# as spaces). A phrase counts wherever it stands in a sentence unless a negation ("don't",
# "no", "never" …) comes before it in the same sentence: "Please stop texting me!" asks to stop,
# "Don't stop texting me" does not.
OPT_OUT_PHRASES = (
    # English
    "stop texting me",
    "stop texting",
    "stop text messages",
    "stop sending me texts",
    "stop sending me text messages",
    "stop sending me messages",
    "stop sending texts",
    "stop sending messages",
    "stop messaging me",
    "stop the texts",
    "stop these texts",
    "stop all texts",
    "stop all messages",
    "stop contacting me",
    "no more texts",
    "no more text messages",
    "no more messages",
    "remove me from this list",
    "remove me from the list",
    "remove me from your list",
    "remove me from your texts",
    "remove my number",
    "take me off this list",
    "take me off the list",
    "take me off your list",
    "take my number off",
    "unsubscribe me",
    "opt me out",
    "i want to opt out",
    "i want to unsubscribe",
    "do not text me",
    "dont text me",
    "never text me",
    # Spanish
    "ya no me manden mensajes",
    "ya no me envien mensajes",
    "ya no me manden textos",
    "ya no me envien textos",
    "ya no quiero mensajes",
    "ya no quiero recibir mensajes",
    "no quiero recibir mensajes",
    "no quiero mas mensajes",
    "no me manden mas mensajes",
    "no me envien mas mensajes",
    "no mas mensajes",
    "no mas textos",
    "dejen de enviarme mensajes",
    "dejen de mandarme mensajes",
    "dejen de escribirme",
    "borrenme de la lista",
    "borrenme de su lista",
    "quitenme de la lista",
    "quitenme de su lista",
    "sacame de la lista",
    "saquenme de la lista",
    "darme de baja",
    "denme de baja",
    "cancelar suscripcion",
)
# Short texts that ask to stop only as the whole message ("please stop" yes; "please stop by
# the office" no).
OPT_OUT_WHOLE = (
    "please stop",
    "stop please",
    "stop it",
    "stop now",
    "stop all",
    "stop texts",
    "stop messages",
    "unsubscribe please",
    "please unsubscribe",
    "para por favor",
)
# Spanish words that ask to stop when a text is only them (and polite words): "ALTO",
# "Cancelar por favor", "Baja".
SPANISH_STOP_WORDS = frozenset({"alto", "parar", "pare", "paren", "cancelar", "baja", "detener"})
# Words that may surround opt-out keywords in a text that is otherwise only those keywords:
# "STOP please", "stop stop", "Unsubscribe, thank you", "cancelar por favor".
POLITE = frozenset(
    {"please", "pls", "plz", "now", "thanks", "thank", "you", "thx", "ty", "por", "favor",
     "gracias", "ya", "ahora"}
)  # fmt: skip
# A negation before a phrase, in the same sentence, turns it around.
NEGATIONS = frozenset({"dont", "do not", "never", "not", "no", "wont", "cant", "nunca"})

# Letters from other scripts that look like Latin ones, as spammers and autocorrect use them;
# NFKC leaves these alone (they are different letters, not different forms of one).
CONFUSABLES = {
    # Cyrillic
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԛ": "Q", "Ԝ": "W",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ո": "n",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "ο": "o", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    # Latin look-alikes NFKC keeps
    "ı": "i", "ȷ": "j", "ℓ": "l", "ſ": "s",
}  # fmt: skip
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
# Apostrophes vanish ("don't" -> "dont"); everything else that is not a letter or digit is a gap.
_APOSTROPHES = re.compile(r"['‘’ʼ`´]")
_NON_WORD = re.compile(r"[\W_]+")
_SENTENCE_BREAK = re.compile(r"[.!?;,:\n¡¿]+")


def _fold(text: str) -> str:
    """NFKC, invisible characters out, look-alikes to Latin, accents out, case folded."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = text.translate(_CONFUSABLE_TABLE)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _APOSTROPHES.sub("", text.casefold())


def normalize(text: str) -> str:
    """The message as its words: folded (see module docstring), punctuation and runs of
    spaces as single spaces, trimmed."""
    return " ".join(_NON_WORD.sub(" ", _fold(text)).split())


_KEYWORDS: dict[str, Keyword] = {
    **{k.lower(): "opt_out" for k in OPT_OUT},
    **{k.lower(): "opt_in" for k in OPT_IN},
    **{k.lower(): "help" for k in HELP},
}


def keyword_classify(text: str) -> Keyword | None:
    """The keyword the whole message is, ignoring case, surrounding spaces and punctuation and
    look-alike characters ("Stop." and " ｓｔｏｐ! " are STOP; "please stop texting" is not a
    keyword, see `opt_out_requested`)."""
    return _KEYWORDS.get(normalize(text))


def _negated(words: list[str], start: int) -> bool:
    before = words[:start]
    pairs = {" ".join(before[i : i + 2]) for i in range(len(before) - 1)}
    return any(w in NEGATIONS for w in before) or bool(pairs & NEGATIONS)


def _contains_phrase(words: list[str], phrase: list[str]) -> int:
    """Where `phrase` starts in `words` as whole words, or -1."""
    n = len(phrase)
    for i in range(len(words) - n + 1):
        if words[i : i + n] == phrase:
            return i
    return -1


_PHRASES = [p.split() for p in OPT_OUT_PHRASES]
_WHOLE = frozenset(OPT_OUT_WHOLE)


_OPT_OUT_WORDS = frozenset(k.lower().replace(" ", "") for k in OPT_OUT) | SPANISH_STOP_WORDS


def _only_opt_out_words(words: list[str]) -> bool:
    """Opt-out keywords and polite words only, at least one keyword ("opt out" counts as one)."""
    joined = " ".join(words).replace("opt out", "optout").split()
    return any(w in _OPT_OUT_WORDS for w in joined) and all(
        w in _OPT_OUT_WORDS or w in POLITE for w in joined
    )


def opt_out_requested(text: str) -> bool:
    """Whether a text that is not a keyword still plainly asks to stop (see OPT_OUT_PHRASES,
    OPT_OUT_WHOLE and POLITE)."""
    folded = _fold(text)
    whole = normalize(folded)
    if whole in _WHOLE or _only_opt_out_words(whole.split()):
        return True
    for sentence in _SENTENCE_BREAK.split(folded):
        words = _NON_WORD.sub(" ", sentence).split()
        for phrase in _PHRASES:
            at = _contains_phrase(words, phrase)
            if at >= 0 and not _negated(words, at):
                return True
    return False


def inbound_classify(text: str) -> Keyword | None:
    """What an inbound text asks for: a keyword, or opt-out when it plainly asks to stop."""
    keyword = keyword_classify(text)
    if keyword is None and opt_out_requested(text):
        return "opt_out"
    return keyword
