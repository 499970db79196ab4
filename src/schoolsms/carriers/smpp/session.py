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
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smpplib import consts, smpp

logger = logging.getLogger(__name__)

SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
GENERIC_NACK = 0x80000000
ANSWERS = frozenset((SUBMIT_SM_RESP, GENERIC_NACK))
HEADER = struct.Struct(">LLLL")
# ESME_RTHROTTLED, ESME_RMSGQFUL: not taken; slow down, and it is sent again.
THROTTLING = {0x58, 0x14}


@dataclass(frozen=True)
class BindSettings:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    window: int = 10


class Waiting:
    """A submit_sm queued or sent: `status` None until the SMSC answers it (and still None if
    it never does: the link dropped first), then its status and `message_id`. `round` counts
    what its round still awaits."""

    __slots__ = ("message_id", "round", "status")

    def __init__(self, round: Round) -> None:
        self.status: int | None = None
        self.message_id = ""
        self.round = round


class Round:
    """Submits sent together, awaited together (one Event per submit cost more than the
    submit itself)."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending = 0


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
        self._waiting: dict[int, tuple[Waiting, float]] = {}  # by sequence, with when sent
        self._queue: deque[tuple[bytes, Waiting]] = deque()  # not sent yet
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
                if self.bind_status is not None:
                    return False  # refused: waiting helps nobody until the settings change
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
            unanswered = [entry for entry, _sent in self._waiting.values()]
            unanswered += [entry for _body, entry in self._queue]
            self._waiting, self._queue = {}, deque()
            for entry in unanswered:
                entry.round.pending -= 1
            self._lock.notify_all()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

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
        quiet_since = checked = time.monotonic()
        enquired_at: float | None = None
        while not self._stop.is_set():
            try:
                data = self._recv()
            except TimeoutError:
                self._pump()  # after a throttling pause, say
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
            if quiet_since - checked >= 1.0:
                checked = quiet_since
                self._check_overdue(quiet_since)
            for raw in self._settle(self._buffer + data if self._buffer else data):
                self._handle(raw)

    def _settle(self, buffer: bytes) -> list[bytes]:
        """Every whole PDU received: the submit answers (read from the header alone, the hot
        path) settle the submits waiting for them and the window is filled again, from this
        thread, without waking the one that queued them; the other PDUs are returned. A
        partial PDU stays buffered."""
        others: list[bytes] = []
        offset, size = 0, len(buffer)
        unpack, find = HEADER.unpack_from, buffer.find
        done = False
        with self._lock:
            waiting = self._waiting
            while size - offset >= 16:
                length, command, status, sequence = unpack(buffer, offset)
                if length < 16 or length > 1 << 16:
                    raise ValueError(f"PDU length {length}")
                if size - offset < length:
                    break
                if command not in ANSWERS:
                    others.append(buffer[offset : offset + length])
                    offset += length
                    continue
                found = waiting.pop(sequence, None)
                if found is not None:
                    entry = found[0]
                    end = find(b"\0", offset + 16, offset + length)
                    if end > 0:
                        entry.message_id = buffer[offset + 16 : end].decode("ascii", "replace")
                    entry.status = status
                    round = entry.round
                    round.pending -= 1
                    done = done or round.pending <= 0
                if status:
                    if status in THROTTLING:
                        # The SMSC said slow down: pause every submit, longer each time in a row.
                        self._pause = min(max(self._pause * 2, 0.05), 5.0)
                        self.pause_until = time.monotonic() + self._pause
                elif self._pause:
                    self._pause = 0.0
                offset += length
            self._buffer = buffer[offset:]
            if done:
                self._lock.notify_all()
            out = self._take_window()
        if out:
            self._send_window(out)
        return others

    def _handle(self, raw: bytes) -> None:
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

    def submit_round(self, bodies: Sequence[bytes]) -> tuple[Round, list[Waiting]]:
        """Queue submit_sm bodies (see pdus.submit_bodies) as one round; they go out as the
        window allows, sent by whichever thread sees room first (mostly the reader, as
        answers come in)."""
        round = Round()
        entries = [Waiting(round) for _ in bodies]
        with self._lock:
            round.pending += len(entries)
            self._queue.extend(zip(bodies, entries, strict=True))
        self._pump()
        return round, entries

    def _pump(self) -> None:
        with self._lock:
            out = self._take_window()
        if out:
            self._send_window(out)

    def _take_window(self) -> list[bytes]:
        """Under the lock: queued submits for the free places in the window, numbered."""
        queue, waiting = self._queue, self._waiting
        if not queue or not self.bound:
            return []
        now = time.monotonic()
        if self.pause_until > now:
            return []
        out: list[bytes] = []
        pack = HEADER.pack
        free = self.settings.window - len(waiting)
        while queue and free > 0:
            body, entry = queue.popleft()
            sequence = self._sequences.next_sequence()
            waiting[sequence] = (entry, now)
            out += (pack(16 + len(body), SUBMIT_SM, 0, sequence), body)
            free -= 1
        return out

    def _send_window(self, out: list[bytes]) -> None:
        try:
            self._send_raw(b"".join(out))
        except OSError:
            # The reader finds the link broken and settles them as unanswered.
            sock = self._sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def wait_round(self, round: Round, *, deadline: float) -> None:
        """Until every submit of the round is answered, or known unanswered (a drop, or the
        link dropped for an overdue answer). Those still queued at `deadline` are taken back
        unsent; the sent ones are always settled within answer_timeout."""
        while True:
            with self._lock:
                if round.pending <= 0:
                    return
                if time.monotonic() >= deadline:
                    kept: deque[tuple[bytes, Waiting]] = deque()
                    for body, entry in self._queue:
                        if entry.round is round:
                            round.pending -= 1
                        else:
                            kept.append((body, entry))
                    self._queue = kept
                    if round.pending <= 0:
                        return
                self._lock.wait(0.05)
            self._pump()  # after a throttling pause, nobody else may be reading

    @property
    def outstanding(self) -> int:
        with self._lock:
            return len(self._waiting) + len(self._queue)


class _BindRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(
            f"bind refused: 0x{status:02X} {consts.DESCRIPTIONS.get(status, 'unknown status')}"
        )
        self.status = status
