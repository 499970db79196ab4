"""A small SMSC for the tests and the bench: SMPP 3.4 over a real socket on 127.0.0.1 (a free
port), built on smpplib's PDU classes. It checks the bind, answers submit_sm, sends delivery
receipts (text form or TLVs only, dates with or without seconds) and inbound texts, and can
refuse, throttle or drop the connection mid-broadcast. It records every submit_sm it took."""

from __future__ import annotations

import contextlib
import itertools
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from smpplib import smpp

SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
HEADER = struct.Struct(">LLLL")


@dataclass
class Submit:
    destination: str
    dest_ton: int
    source: str
    short_message: bytes
    esm_class: int
    data_coding: int
    registered_delivery: int
    message_id: str  # "" when refused


@dataclass
class Smsc:
    system_id: str = "school"
    password: str = "secret"
    receipts: str = "text"  # "text", "tlv" or "" (none)
    seconds_in_dates: bool = False
    # destination digits -> "delivered", "undeliverable", "rejected" or "0x0B" (submit refused)
    outcomes: dict[str, str] = field(default_factory=dict)
    throttle_first: int = 0  # answer this many submits with ESME_RTHROTTLED
    drop_after: int = 0  # close the connection on receiving this submit, unanswered (once)
    fast: bool = False  # answer only (the bench): no parsing, no records, no receipts

    def __post_init__(self) -> None:
        self.submits: list[Submit] = []
        self.acked: list[int] = []  # sequences of deliver_sm the client answered
        self.binds: list[str] = []  # "ok" or the refusal, per bind attempt
        self.answered = 0
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._received = 0
        self._stopped = False

    def start(self) -> Smsc:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._listener.close()
        for conn in list(self._connections):
            conn.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                sock, _addr = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, sock)
            self._connections.append(conn)
            threading.Thread(target=conn.serve, daemon=True).start()

    def bound(self) -> list[_Connection]:
        return [c for c in self._connections if c.bound and not c.closed]

    def drop_all(self) -> None:
        for conn in list(self._connections):
            conn.close()

    def send_mo(self, *, source: str, to: str, text: bytes, data_coding: int = 0) -> None:
        """An inbound text from a handset (source in international digits)."""
        [conn] = self.bound()[:1]
        conn.send(
            "deliver_sm",
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=source,
            dest_addr_ton=3,
            dest_addr_npi=0,
            destination_addr=to,
            esm_class=0,
            data_coding=data_coding,
            short_message=text,
        )

    def next_id(self) -> str:
        return f"{next(self._ids):x}"

    def count(self) -> int:
        with self._lock:
            self._received += 1
            return self._received


class _Connection:
    def __init__(self, smsc: Smsc, sock: socket.socket) -> None:
        self.smsc = smsc
        self.sock = sock
        self.bound = False
        self.closed = False
        self._write = threading.Lock()
        self._sequences = itertools.count(1)
        self.sequence = 0

    # smpplib asks its "client" for sequence numbers.
    def next_sequence(self) -> int:
        self.sequence = next(self._sequences)
        return self.sequence

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def send(self, command: str, sequence: int | None = None, **fields: Any) -> None:
        pdu = smpp.make_pdu(command, client=self, **fields)
        if sequence is not None:
            pdu.sequence = sequence  # smpplib ignores sequence= once its client numbered a PDU
        self.write(pdu.generate())

    def write(self, data: bytes) -> None:
        with self._write:
            self.sock.sendall(data)

    def serve(self) -> None:
        buffer = b""
        try:
            while not self.closed:
                data = self.sock.recv(65536)
                if not data:
                    return
                buffer += data
                while len(buffer) >= 16 and not self.closed:
                    (length,) = struct.unpack_from(">L", buffer)
                    if len(buffer) < length:
                        break
                    raw, buffer = buffer[:length], buffer[length:]
                    self.handle(raw)
        except OSError:
            return
        finally:
            self.closed = True
            self.sock.close()

    def handle(self, raw: bytes) -> None:
        smsc = self.smsc
        _length, command, _status, sequence = HEADER.unpack_from(raw)
        if command == SUBMIT_SM and smsc.fast:
            message_id = smsc.next_id().encode() + b"\0"
            self.write(HEADER.pack(16 + len(message_id), SUBMIT_SM_RESP, 0, sequence) + message_id)
            return
        pdu = smpp.parse_pdu(raw, client=self, allow_unknown_opt_params=True)
        if pdu.command == "bind_transceiver":
            status = 0
            if pdu.system_id.decode() != smsc.system_id:
                status = 0x0F
            elif pdu.password.decode() != smsc.password:
                status = 0x0E
            smsc.binds.append("ok" if status == 0 else f"0x{status:02X}")
            self.send("bind_transceiver_resp", sequence=sequence, status=status, system_id="smsc")
            self.bound = status == 0
        elif pdu.command == "submit_sm":
            self.submit(pdu)
        elif pdu.command == "enquire_link":
            self.send("enquire_link_resp", sequence=sequence)
        elif pdu.command == "unbind":
            self.send("unbind_resp", sequence=sequence)
            self.close()
        elif pdu.command == "deliver_sm_resp":
            smsc.acked.append(sequence)

    def submit(self, pdu: Any) -> None:
        smsc = self.smsc
        number = smsc.count()
        if smsc.drop_after and number == smsc.drop_after:
            smsc.drop_after = 0
            self.close()
            return
        destination = pdu.destination_addr.decode()
        outcome = smsc.outcomes.get(destination, "delivered")
        status = 0
        if number <= smsc.throttle_first:
            status = 0x58
        elif outcome.startswith("0x"):
            status = int(outcome, 16)
        message_id = smsc.next_id() if status == 0 else ""
        if status != 0x58:
            smsc.submits.append(
                Submit(
                    destination=destination,
                    dest_ton=pdu.dest_addr_ton,
                    source=pdu.source_addr.decode(),
                    short_message=pdu.short_message or b"",
                    esm_class=pdu.esm_class or 0,
                    data_coding=pdu.data_coding or 0,
                    registered_delivery=pdu.registered_delivery or 0,
                    message_id=message_id,
                )
            )
        self.send("submit_sm_resp", sequence=pdu.sequence, status=status, message_id=message_id)
        smsc.answered += 1
        if status == 0 and smsc.receipts and pdu.registered_delivery:
            self.receipt(message_id, destination, outcome)

    def receipt(self, message_id: str, destination: str, outcome: str) -> None:
        smsc = self.smsc
        stat, state, err = {
            "undeliverable": ("UNDELIV", 5, 1),
            "rejected": ("REJECTD", 8, 11),
        }.get(outcome, ("DELIVRD", 2, 0))
        stamp = time.strftime("%y%m%d%H%M%S" if smsc.seconds_in_dates else "%y%m%d%H%M")
        fields: dict[str, Any] = {
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": destination,
            "destination_addr": "67587",
            "esm_class": 0x04,
        }
        if smsc.receipts == "tlv":
            fields.update(
                receipted_message_id=message_id,
                message_state=state,
                network_error_code=bytes((3,)) + err.to_bytes(2, "big"),
            )
        else:
            fields["short_message"] = (
                f"id:{message_id} sub:001 dlvrd:{int(stat == 'DELIVRD'):03d} "
                f"submit date:{stamp} done date:{stamp} stat:{stat} err:{err:03d} text:"
            ).encode()
        self.send("deliver_sm", **fields)
