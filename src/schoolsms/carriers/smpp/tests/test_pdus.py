"""Texts as submit_sm (alphabet, segments, UDH, addresses), read back by smpplib; receipts in
both forms and both date forms; inbound texts decoded and put back together."""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

import pytest
from smpplib import smpp

from schoolsms.carriers.smpp import pdus
from schoolsms.carriers.smpp.inbound import Reassembly, inbound_parse
from schoolsms.carriers.smpp.receipts import receipt_parse, status_update
from schoolsms.messaging.text import split_segments, text_check


class _Client:
    sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


def _read_back(body: bytes) -> Any:
    """A submit_sm as smpplib parses it off the wire."""
    raw = struct.pack(">LLLL", 16 + len(body), 0x04, 0, 7) + body
    return smpp.parse_pdu(raw, client=_Client(), allow_unknown_opt_params=True)


def test_a_short_gsm7_text_is_one_submit_with_data_coding_0() -> None:
    [segment] = pdus.segments("Snow day {closed} €5")
    pdu = _read_back(
        pdus.submit_body(
            source="67587", source_ton=None, source_npi=None, to="+12175550101", segment=segment
        )
    )
    assert pdu.data_coding == 0 and pdu.esm_class == 0 and pdu.registered_delivery == 1
    assert (pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr) == (3, 0, b"67587")
    assert (pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr) == (1, 1, b"12175550101")
    assert pdu.short_message == b"Snow day \x1b(closed\x1b) \x1be5"
    assert pdus.decode(pdu.short_message, 0) == "Snow day {closed} €5"


def test_configured_ton_and_npi_win() -> None:
    [segment] = pdus.segments("Hi")
    body = pdus.submit_body(
        source="+12175550100", source_ton=5, source_npi=0, to="+12175550101", segment=segment
    )
    pdu = _read_back(body)
    assert (pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr) == (5, 0, b"12175550100")


def test_a_backtick_makes_the_text_ucs2() -> None:
    # smpplib's own GSM-7 table would send it as a wrong character.
    [segment] = pdus.segments("Use `code`")
    assert segment.data_coding == 8 and segment.data == "Use `code`".encode("utf-16-be")


@pytest.mark.parametrize(
    "text",
    [
        "a" * 152 + "[" + "b" * 200,  # an escape pair exactly on the 153 boundary
        "x" * 161,
        "é" * 150 + "🙂" * 40,  # UCS-2 with surrogate pairs across the 67 boundary
        "Café " * 40,  # é is GSM-7
    ],
)
def test_long_texts_split_as_the_counter_counts_never_inside_a_pair(text: str) -> None:
    segments = pdus.segments(text)
    check = text_check(text)
    assert len(segments) == check.segments == len(split_segments(text)) > 1
    references = {s.data[3] for s in segments}
    assert len(references) == 1
    pieces = []
    for n, segment in enumerate(segments, start=1):
        assert segment.esm_class == 0x40
        assert segment.data_coding == (0 if check.encoding == "GSM-7" else 8)
        data, concat = pdus.strip_udh(segment.data, segment.esm_class)
        assert concat == (references.pop() if n == 1 else concat[0], len(segments), n)
        limit = 153 if check.encoding == "GSM-7" else 134
        assert len(data) <= limit
        if check.encoding == "GSM-7":
            assert not data.endswith(b"\x1b")  # never half an escape pair
        else:
            assert not 0xD800 <= int.from_bytes(data[-2:], "big") <= 0xDBFF
        pieces.append(pdus.decode(data, segment.data_coding))
    assert "".join(pieces) == text


def _deliver(**fields: Any) -> Any:
    raw = smpp.make_pdu("deliver_sm", client=_Client(), **fields).generate()
    return smpp.parse_pdu(raw, client=_Client(), allow_unknown_opt_params=True)


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        ("2612011432", dt.datetime(2026, 12, 1, 14, 32, tzinfo=dt.UTC)),
        ("261201143207", dt.datetime(2026, 12, 1, 14, 32, 7, tzinfo=dt.UTC)),
    ],
)
def test_text_receipts_with_either_date_form(done: str, expected: dt.datetime) -> None:
    pdu = _deliver(
        esm_class=0x04,
        short_message=(
            f"id:7A3F sub:001 dlvrd:001 submit date:2612011430 done date:{done} "
            "stat:DELIVRD err:000 text:Snow day"
        ).encode(),
    )
    receipt = receipt_parse(pdu)
    assert receipt is not None
    assert (receipt.smsc_id, receipt.stat, receipt.done_at) == ("7A3F", "DELIVRD", expected)
    update = status_update(4, receipt)
    assert update is not None and (update.carrier_id, update.status) == ("4:7A3F", "delivered")


def test_tlv_only_receipts() -> None:
    pdu = _deliver(
        esm_class=0x04,
        receipted_message_id="7A40",
        message_state=5,
        network_error_code=b"\x03\x00\x01",
    )
    receipt = receipt_parse(pdu)
    assert receipt is not None
    assert (receipt.smsc_id, receipt.stat, receipt.err) == ("7A40", "UNDELIV", "001")
    update = status_update(4, receipt)
    assert update is not None and (update.status, update.code) == ("failed", "UNDELIV")


def test_receipts_not_final_change_nothing() -> None:
    pdu = _deliver(esm_class=0x04, short_message=b"id:1 stat:ENROUTE err:000")
    receipt = receipt_parse(pdu)
    assert receipt is not None and status_update(1, receipt) is None


def test_inbound_texts_are_decoded_and_long_ones_joined() -> None:
    stop = _deliver(
        source_addr_ton=1, source_addr="12175550101", destination_addr="67587",
        short_message=b"STOP", data_coding=0,
    )  # fmt: skip
    inbound = inbound_parse(stop, Reassembly())
    assert inbound is not None
    assert (inbound.sender_phone, inbound.to, inbound.body) == ("+12175550101", "67587", "STOP")
    national = _deliver(source_addr_ton=2, source_addr="2175550102", short_message=b"Y")
    parsed = inbound_parse(national, Reassembly())
    assert parsed is not None and parsed.sender_phone == "+12175550102"
    reassembly = Reassembly()
    parts = [(2, "¿Mañana hay "), (1, "clases? 🙂")]
    got = []
    for number, text in parts:
        udh = bytes((5, 0, 3, 9, 2, 3 - number))
        pdu = _deliver(
            source_addr_ton=1, source_addr="12175550101", esm_class=0x40, data_coding=8,
            short_message=udh + text.encode("utf-16-be"),
        )  # fmt: skip
        got.append(inbound_parse(pdu, reassembly))
    assert got[0] is None and got[1] is not None
    assert got[1].body == "¿Mañana hay clases? 🙂"
