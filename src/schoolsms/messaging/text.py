"""SMS text checking: GSM-7 or UCS-2, how many segments, and which characters force UCS-2.

Written here rather than taken from a package: the GSM 03.38 codecs on PyPI map ESC itself as a
character and say nothing about segments, and the compose page's JavaScript needs the very same
tables, which it receives from this module (see `client_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# GSM 03.38 default alphabet (one septet each). ESC (0x1B) is left out: it is not a character.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + a septet, so costs two.
GSM7_EXTENSION = "\f^{}\\[~]|€"

_GSM7_COST = {**dict.fromkeys(GSM7_BASIC, 1), **dict.fromkeys(GSM7_EXTENSION, 2)}

Encoding = Literal["GSM-7", "UCS-2"]

# Units (septets or UCS-2 code units) in a single message, and per part of a split one; a split
# message loses room to the user data header that numbers its parts.
SINGLE = {"GSM-7": 160, "UCS-2": 70}
PER_SEGMENT = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class ForcingChar:
    """A character outside GSM-7; `position` counts code points from 0."""

    position: int
    char: str

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"


@dataclass(frozen=True)
class TextCheck:
    text: str
    encoding: Encoding
    characters: int  # code points
    units: int  # septets (GSM-7) or 16-bit code units (UCS-2)
    segments: int
    forcing: tuple[ForcingChar, ...] = field(default=())

    @property
    def limit(self) -> int:
        """Units that fit in one part at the current size: 160/153 or 70/67."""
        return SINGLE[self.encoding] if self.segments <= 1 else PER_SEGMENT[self.encoding]

    @property
    def remaining(self) -> int:
        """Units still free in the last part before another part is needed."""
        if not self.text:
            return SINGLE[self.encoding]
        parts = split_segments(self.text)
        return self.limit - sum(char_cost(c, self.encoding) for c in parts[-1])


def is_gsm7(char: str) -> bool:
    return char in _GSM7_COST


def char_cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return _GSM7_COST[char]
    # Outside the Basic Multilingual Plane a character is a surrogate pair in UCS-2/UTF-16.
    return 2 if ord(char) > 0xFFFF else 1


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if all(c in _GSM7_COST for c in text) else "UCS-2"


def forcing_characters(text: str) -> tuple[ForcingChar, ...]:
    return tuple(ForcingChar(i, c) for i, c in enumerate(text) if c not in _GSM7_COST)


def split_segments(text: str) -> list[str]:
    """The parts a carrier sends. A part never ends between the two units of one character (an
    escape pair or a surrogate pair), so a part may hold one unit less than the limit."""
    encoding = encoding_of(text)
    costs = [char_cost(c, encoding) for c in text]
    if sum(costs) <= SINGLE[encoding]:
        return [text] if text else []
    size = PER_SEGMENT[encoding]
    parts: list[str] = []
    start = used = 0
    for i, cost in enumerate(costs):
        if used + cost > size:
            parts.append(text[start:i])
            start, used = i, 0
        used += cost
    parts.append(text[start:])
    return parts


# Septet values: the basic table in order (0x1B, ESC, is not a character), and the extension
# table's characters, each sent after ESC.
ESC = 0x1B
_GSM7_SEPTET = {c: i + (i >= ESC) for i, c in enumerate(GSM7_BASIC)}
_GSM7_EXTENSION_SEPTET = dict(
    zip(GSM7_EXTENSION, b"\x0a\x14\x28\x29\x2f\x3c\x3d\x3e\x40\x65", strict=True)
)
_SEPTET_CHAR = {v: c for c, v in _GSM7_SEPTET.items()}
_EXTENSION_CHAR = {v: c for c, v in _GSM7_EXTENSION_SEPTET.items()}


def gsm7_encode(text: str) -> bytes:
    """GSM-7 text as septets, one per octet (unpacked, as SMPP carries the SMSC's default
    alphabet); an extension character is ESC and its septet. ValueError names a character
    outside GSM-7."""
    out = bytearray()
    for i, char in enumerate(text):
        septet = _GSM7_SEPTET.get(char)
        if septet is not None:
            out.append(septet)
        elif char in _GSM7_EXTENSION_SEPTET:
            out += bytes((ESC, _GSM7_EXTENSION_SEPTET[char]))
        else:
            raise ValueError(f"character {i} (U+{ord(char):04X}) is not in GSM-7")
    return bytes(out)


def gsm7_decode(data: bytes) -> str:
    """Unpacked GSM-7 septets back to text; an unknown extension septet reads as a space, the
    way handsets show it (GSM 03.38)."""
    chars: list[str] = []
    escaped = False
    for octet in data:
        septet = octet & 0x7F
        if escaped:
            chars.append(_EXTENSION_CHAR.get(septet, _SEPTET_CHAR.get(septet, " ")))
            escaped = False
        elif septet == ESC:
            escaped = True
        else:
            chars.append(_SEPTET_CHAR[septet])
    return "".join(chars)


def text_check(text: str) -> TextCheck:
    encoding = encoding_of(text)
    return TextCheck(
        text=text,
        encoding=encoding,
        characters=len(text),
        units=sum(char_cost(c, encoding) for c in text),
        segments=len(split_segments(text)),
        forcing=forcing_characters(text) if encoding == "UCS-2" else (),
    )


def client_tables() -> dict[str, object]:
    """What the compose page's counter needs to count exactly as this module does."""
    return {
        "basic": GSM7_BASIC,
        "extension": GSM7_EXTENSION,
        "single": SINGLE,
        "perSegment": PER_SEGMENT,
    }
