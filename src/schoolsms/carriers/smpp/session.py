"""One SMPP 3.4 transceiver bind: connect and bind, read PDUs on its own thread, keep the link
alive (enquire_link), rebind with backoff after a drop or a refused bind, and a window of
submit_sm awaiting their submit_sm_resp.

PDUs are smpplib's classes; the socket, the threads and the window are ours (smpplib's client
reads and writes on one thread, and answers each PDU before reading the next)."""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smpplib import consts, smpp

logger = logging.getLogger(__name__)

SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
GENERIC_NACK = 0x80000000
HEADER = struct.Struct(">LLLL")
# Bind statuses that mean our credentials or account, not the link: rebind more slowly.
BIND_REFUSED = {0x04, 0x05, 0x0D, 0x0E, 0x0F}


@dataclass(frozen=True)
class BindSettings:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    window: int = 10


@dataclass(frozen=True)
class SubmitAnswer:
    """The SMSC's answer to one submit_sm; status None: none came (the link dropped first)."""

    status: int | None
    message_id: str = ""


class Waiting:
    """A submit_sm sent and not yet answered."""

    __slots__ = ("_event", "answer")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.answer = SubmitAnswer(None)

    def settle(self, answer: SubmitAnswer) -> None:
        self.answer = answer
        self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(max(timeout, 0))


class _Sequences:
    """smpplib asks its `client` for sequence numbers; ours are safe across threads."""

    def __init__(self) -> None:
        self._count = itertools.count(1)
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = next(self._count) % 0x7FFFFFFF or next(self._count)
        return self.sequence


class Session:
    """Holds one bind open until `stop()`. `on_deliver(pdu)` runs on the reader thread for each
    deliver_sm and must not block (queue it); the answer goes back with `respond`."""

    enquire_every = 30.0  # seconds of silence before an enquire_link
    answer_timeout = 30.0  # a submit or enquire_link unanswered this long: the link is dead
    connect_timeout = 10.0
    backoff_first = 0.5
    backoff_most = 60.0

    def __init__(
        self, settings: BindSettings, *, name: str, on_deliver: Callable[[Any], None]
    ) -> None:
        self.settings = settings
        self.name = name
        self.on_deliver = on_deliver
        self._sequences = _Sequences()
        self._lock = threading.Condition()  # guards _sock, _waiting, bound state
        self._write = threading.Lock()
        self._waiting: dict[int, tuple[Waiting, float]] = {}
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self.bound = False
        self.binds = 0  # successful binds so far
        self.last_error = ""  # why the last connect or bind failed ("" once bound)
        self.bind_status: int | None = None  # the SMSC's status for a refused bind
        self.pause_until = 0.0  # after ESME_RTHROTTLED / ESME_RMSGQFUL
        self._pause = 0.0
        self._thread = threading.Thread(target=self._run, name=f"smpp-{name}", daemon=True)

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> Session:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Unbind (politely, briefly) and close."""
        self._stop.set()
        sock = self._sock
        if sock is not None and self.bound:
            with contextlib.suppress(OSError):
                self._send_pdu(smpp.make_pdu("unbind", client=self._sequences))
        self._thread.join(timeout)
        self._close("stopped")

    def wait_bound(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.bound and not self._stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return self.bound

    def _run(self) -> None:
        delay = self.backoff_first
        while not self._stop.is_set():
            try:
                self._connect_and_bind()
            except (OSError, _BindRefused) as exc:
                self.last_error = str(exc) or type(exc).__name__
                logger.warning("smpp %s: bind failed (%s); again in %.1fs", self.name, exc, delay)
                self._close(self.last_error)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_most)
                continue
            delay = self.backoff_first
            try:
                self._read_loop()
            except (OSError, ValueError) as exc:
                if not self._stop.is_set():
                    logger.warning("smpp %s: connection lost (%s); rebinding", self.name, exc)
            self._close("connection lost")
            if not self._stop.is_set():
                self._stop.wait(self.backoff_first)

    def _connect_and_bind(self) -> None:
        s = self.settings
        sock = socket.create_connection((s.host, s.port), timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sock = sock
            self._buffer = b""
        bind = smpp.make_pdu(
            "bind_transceiver",
            client=self._sequences,
            system_id=s.system_id,
            password=s.password,
            system_type=s.system_type,
            addr_ton=0,
            addr_npi=0,
            address_range="",
        )
        self._send_pdu(bind)
        sock.settimeout(self.connect_timeout)
        while True:
            pdu = self._read_pdu()
            if pdu.command == "bind_transceiver_resp" or pdu.command == "generic_nack":
                break
        if pdu.status != consts.SMPP_ESME_ROK:
            self.bind_status = int(pdu.status)
            raise _BindRefused(pdu.status)
        sock.settimeout(min(self.enquire_every, self.answer_timeout))
        with self._lock:
            self.bound = True
            self.binds += 1
            self.last_error = ""
            self.bind_status = None
            self._lock.notify_all()
        logger.info("smpp %s: bound to %s:%s", self.name, s.host, s.port)

    def _close(self, why: str) -> None:
        """Forget the socket; every submit still waiting gets no answer (so it is sent again)."""
        with self._lock:
            sock, self._sock = self._sock, None
            self.bound = False
            waiting, self._waiting = self._waiting, {}
            self._lock.notify_all()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        for entry, _sent in waiting.values():
            entry.settle(SubmitAnswer(None))

    # -- reading ------------------------------------------------------------------------------

    def _recv(self) -> bytes:
        sock = self._sock
        if sock is None:
            raise OSError("not connected")
        data = sock.recv(65536)
        if not data:
            raise OSError("the SMSC closed the connection")
        return data

    def _read_raw(self) -> bytes:
        while True:
            buffer = self._buffer
            if len(buffer) >= 4:
                (length,) = struct.unpack_from(">L", buffer)
                if length < 16 or length > 1 << 16:
                    raise ValueError(f"PDU length {length}")
                if len(buffer) >= length:
                    self._buffer = buffer[length:]
                    return buffer[:length]
            self._buffer = buffer + self._recv()

    def _read_pdu(self) -> Any:
        raw = self._read_raw()
        return smpp.parse_pdu(raw, client=self._sequences, allow_unknown_opt_params=True)

    def _read_loop(self) -> None:
        quiet_since = time.monotonic()
        enquired_at: float | None = None
        while not self._stop.is_set():
            try:
                raw = self._read_raw()
            except TimeoutError:
                now = time.monotonic()
                if enquired_at is not None and now - enquired_at >= self.answer_timeout:
                    raise OSError("enquire_link unanswered") from None
                self._check_overdue(now)
                if enquired_at is None and now - quiet_since >= self.enquire_every:
                    enquired_at = now
                    self._send_pdu(smpp.make_pdu("enquire_link", client=self._sequences))
                continue
            quiet_since = time.monotonic()
            enquired_at = None
            _length, command, status, sequence = HEADER.unpack_from(raw)
            if command in (SUBMIT_SM_RESP, GENERIC_NACK):
                end = raw.find(b"\0", 16)
                message_id = raw[16:end].decode("ascii", "replace") if end > 16 else ""
                self._settle(sequence, SubmitAnswer(status, message_id))
                continue
            pdu = smpp.parse_pdu(raw, client=self._sequences, allow_unknown_opt_params=True)
            if pdu.command == "deliver_sm":
                self.on_deliver(pdu)
            elif pdu.command == "enquire_link":
                self.respond(pdu.sequence, "enquire_link_resp")
            elif pdu.command == "unbind":
                self.respond(pdu.sequence, "unbind_resp")
                raise OSError("the SMSC unbound")
            elif pdu.command not in ("enquire_link_resp", "unbind_resp"):
                logger.info("smpp %s: ignored %s", self.name, pdu.command)

    def _check_overdue(self, now: float) -> None:
        with self._lock:
            overdue = any(now - sent >= self.answer_timeout for _w, sent in self._waiting.values())
        if overdue:
            raise OSError("a submit_sm went unanswered")

    def _settle(self, sequence: int, answer: SubmitAnswer) -> None:
        with self._lock:
            entry = self._waiting.pop(sequence, None)
            self._lock.notify_all()
        if entry is not None:
            entry[0].settle(answer)

    # -- writing ------------------------------------------------------------------------------

    def _send_pdu(self, pdu: Any) -> None:
        self._send_raw(pdu.generate())

    def _send_raw(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise OSError("not connected")
        with self._write:
            sock.sendall(data)

    def respond(self, sequence: int, command: str, status: int = 0) -> None:
        pdu = smpp.make_pdu(command, client=self._sequences, status=status)
        # Set afterwards: smpplib ignores a `sequence=` argument once its client has numbered
        # any PDU.
        pdu.sequence = sequence
        try:
            self._send_pdu(pdu)
        except OSError as exc:
            logger.warning("smpp %s: could not answer %s: %s", self.name, command, exc)

    def submit(self, body: bytes, *, deadline: float) -> Waiting | None:
        """Send one submit_sm (its body: pdus.submit_body) once bound with room in the window
        and any throttling pause over; None if that did not happen by `deadline` (monotonic)."""
        with self._lock:
            while True:
                now = time.monotonic()
                if self._stop.is_set() or now >= deadline:
                    return None
                if not self.bound and self.bind_status is not None:
                    return None  # refused: waiting helps nobody until the settings change
                if not self.bound or len(self._waiting) >= self.settings.window:
                    self._lock.wait(deadline - now)
                elif self.pause_until > now:
                    self._lock.wait(min(deadline, self.pause_until) - now)
                else:
                    break
            sequence = self._sequences.next_sequence()
            entry = Waiting()
            self._waiting[sequence] = (entry, time.monotonic())
        try:
            self._send_raw(HEADER.pack(16 + len(body), SUBMIT_SM, 0, sequence) + body)
        except OSError:
            self._settle(sequence, SubmitAnswer(None))
        return entry

    def throttled(self) -> None:
        """The SMSC said slow down: pause every submit, longer each time in a row."""
        with self._lock:
            self._pause = min(max(self._pause * 2, 0.05), 5.0)
            self.pause_until = time.monotonic() + self._pause
            self._lock.notify_all()

    def unthrottled(self) -> None:
        if self._pause:
            with self._lock:
                self._pause = 0.0

    @property
    def outstanding(self) -> int:
        with self._lock:
            return len(self._waiting)


class _BindRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(
            f"bind refused: 0x{status:02X} {consts.DESCRIPTIONS.get(status, 'unknown status')}"
        )
        self.status = status
