"""Our texts as submit_sm fields: the alphabet (data_coding 0 for GSM-7, 8 for UCS-2) and the
segments chosen by messaging.text, the segments of a long text joined by a concatenation UDH,
and addresses in the form the SMSC expects."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from schoolsms.messaging import text

DATA_CODING = {"GSM-7": 0, "UCS-2": 8}
ESM_UDHI = 0x40  # the short message starts with a user data header
ESM_RECEIPT = 0x04  # deliver_sm: an SMSC delivery receipt (esm_class & 0x3C)
TON_INTERNATIONAL, NPI_ISDN = 1, 1
TON_NETWORK_SPECIFIC, NPI_UNKNOWN = 3, 0

_REFERENCES = itertools.count()


@dataclass(frozen=True)
class Segment:
    data: bytes  # short_message: the UDH (if any) and the encoded text
    esm_class: int
    data_coding: int


def encode(part: str, encoding: text.Encoding) -> bytes:
    # Our own GSM-7 table: smpplib's encodes a backtick wrongly (it is not GSM-7 at all).
    return text.gsm7_encode(part) if encoding == "GSM-7" else part.encode("utf-16-be")


@functools.lru_cache(maxsize=64)
def _encoded(body: str) -> tuple[int, tuple[bytes, ...]]:
    """(data_coding, each segment's text encoded): a broadcast's one text, encoded once."""
    encoding = text.encoding_of(body)
    parts = text.split_segments(body) or [""]
    return DATA_CODING[encoding], tuple(encode(part, encoding) for part in parts)


def segments(body: str) -> list[Segment]:
    """The text exactly as composed, in as many segments as the compose page counted."""
    coding, parts = _encoded(body)
    if len(parts) == 1:
        return [Segment(parts[0], 0, coding)]
    if len(parts) > 255:
        raise ValueError(f"a text of {len(parts)} segments is too long for SMS (at most 255)")
    reference = next(_REFERENCES) & 0xFF
    return [
        Segment(bytes((5, 0, 3, reference, len(parts), n)) + part, ESM_UDHI, coding)
        for n, part in enumerate(parts, start=1)
    ]


def address(number: str) -> tuple[int, int, str]:
    """(ton, npi, digits) for a number: international for +E.164, otherwise a short code."""
    if number.startswith("+"):
        return TON_INTERNATIONAL, NPI_ISDN, number[1:]
    return TON_NETWORK_SPECIFIC, NPI_UNKNOWN, number


def _cstring(value: str) -> bytes:
    return value.encode("ascii") + b"\0"


@functools.lru_cache(maxsize=64)
def _head(source: str, source_ton: int | None, source_npi: int | None) -> bytes:
    ton, npi, source_addr = address(source)
    return b"".join(
        (
            b"\0",  # service_type: the SMSC's default
            bytes((ton if source_ton is None else source_ton,)),
            bytes((npi if source_npi is None else source_npi,)),
            _cstring(source_addr),
            bytes((TON_INTERNATIONAL, NPI_ISDN)),
        )
    )


def _tail(segment: Segment, receipt: bool) -> bytes:
    # esm_class, protocol_id, priority_flag, schedule_delivery_time (empty), validity_period
    # (empty), registered_delivery (receipts asked for), replace_if_present_flag, data_coding,
    # sm_default_msg_id, sm_length, then the short message.
    size = len(segment.data)
    flags = (segment.esm_class, 0, 0, 0, 0, int(receipt), 0, segment.data_coding, 0, size)
    return bytes(flags) + segment.data


def submit_body(
    *,
    source: str,
    source_ton: int | None,
    source_npi: int | None,
    to: str,
    segment: Segment,
    receipt: bool = True,
) -> bytes:
    """The body of a submit_sm (SMPP 3.4 §4.4.1) after its header: built directly, as
    smpplib's generic PDU builder costs more than everything else a submit needs (a test
    checks smpplib reads it back field by field). Destination international, a delivery
    receipt asked for unless `receipt` is False; no TLVs."""
    [(_t, _s, body)] = submit_bodies(
        source=source,
        source_ton=source_ton,
        source_npi=source_npi,
        texts=[(to, [segment])],
        receipt=receipt,
    )
    return body


def submit_bodies(
    *,
    source: str,
    source_ton: int | None,
    source_npi: int | None,
    texts: Sequence[tuple[str, Sequence[Segment]]],
    receipt: bool = True,
) -> list[tuple[int, int, bytes]]:
    """submit_body for every segment of many (to, segments) texts: (text index, segment
    index, body), in order. What the bodies share (the source, a segment sent to many) is
    built once: a broadcast's batch is one text to hundreds of numbers."""
    head = _head(source, source_ton, source_npi)
    tails: dict[int, bytes] = {}  # by id(segment): the segments outlive this call
    bodies = []
    for t, (to, parts) in enumerate(texts):
        addressed = head + _cstring(to[1:] if to.startswith("+") else to)
        for s, segment in enumerate(parts):
            tail = tails.get(id(segment))
            if tail is None:
                tail = tails[id(segment)] = _tail(segment, receipt)
            bodies.append((t, s, addressed + tail))
    return bodies


def decode(data: bytes, data_coding: int) -> str:
    """A deliver_sm's short message as text: GSM-7 (0), UCS-2 (8), Latin-1 (3) or ASCII (1)."""
    if data_coding == 8:
        return data.decode("utf-16-be", "replace")
    if data_coding == 3:
        return data.decode("latin-1")
    if data_coding == 1:
        return data.decode("ascii", "replace")
    return text.gsm7_decode(data)


def strip_udh(data: bytes, esm_class: int) -> tuple[bytes, tuple[int, int, int] | None]:
    """The text without its user data header, and (reference, total, number) of a
    concatenated part."""
    if not esm_class & ESM_UDHI or not data:
        return data, None
    length = data[0]
    header, rest = data[1 : 1 + length], data[1 + length :]
    i = 0
    while i + 1 < len(header):
        iei, size = header[i], header[i + 1]
        value = header[i + 2 : i + 2 + size]
        if iei == 0 and size == 3:
            return rest, (value[0], value[1], value[2])
        if iei == 8 and size == 4:
            return rest, ((value[0] << 8) | value[1], value[2], value[3])
        i += 2 + size
    return rest, None
