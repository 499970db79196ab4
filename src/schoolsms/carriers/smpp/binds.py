"""The binds this process holds, one per SMPP sender: texts submitted through the window
(resubmitted after a drop or throttling when the SMSC never took them), and a thread that
applies what the SMSC delivers (receipts, inbound texts) before acknowledging it."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import close_old_connections, connection

from schoolsms.accounts.models import Sender
from schoolsms.carriers.selectors import gateway_options

from .inbound import Reassembly, inbound_parse, inbound_reply
from .pdus import Segment, segments, submit_bodies
from .receipts import Receipt, is_receipt, receipt_parse, receipts_apply
from .session import THROTTLING, BindSettings, Session, Waiting

logger = logging.getLogger(__name__)

INVALID_LENGTH = 0x01  # ESME_RINVMSGLEN, for a text too long to split
# How long one batch may wait for a bind, a window slot or the end of throttling before its
# untaken texts go back to the pipeline (which retries them later).
SUBMIT_BUDGET = 20.0
# Unbound, a batch waits this long for the bind (a rebind after a drop takes well under it),
# or only FAILED_BIND_WAIT once an attempt failed; untaken texts go back to the pipeline.
BIND_WAIT = 5.0
FAILED_BIND_WAIT = 1.0
# A receipt for a message whose answer is still being recorded waits this long for its row.
UNMATCHED_KEPT_SECONDS = 30.0
ALIASES_KEPT = 200_000


class TextOutcome(NamedTuple):
    """One text's answer: `smsc_id` once any segment was taken (never submitted again);
    otherwise `status` is the SMSC's refusal, or None if it never answered. (A tuple: one is
    made per text, and a frozen dataclass costs more than the rest of it.)"""

    smsc_id: str = ""
    status: int | None = None


def bind_settings(sender: Sender) -> tuple[BindSettings, int | None, int | None]:
    options = gateway_options(sender)
    settings = BindSettings(
        host=str(options.get("smpp_host", "")),
        port=int(options.get("smpp_port") or 0),
        system_id=str(options.get("smpp_system_id", "")),
        password=str(options.get("smpp_password", "")),
        system_type=str(options.get("smpp_system_type") or ""),
        window=int(options.get("smpp_window") or 10),
    )
    ton, npi = options.get("smpp_source_ton"), options.get("smpp_source_npi")
    return settings, None if ton is None else int(ton), None if npi is None else int(npi)


class SenderBind:
    def __init__(
        self, sender: Sender, settings: BindSettings, source_ton: int | None, source_npi: int | None
    ) -> None:
        self.sender = sender
        self.settings = settings
        self.source_ton, self.source_npi = source_ton, source_npi
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.session = Session(settings, name=sender.code, on_deliver=self._inbox.put)
        # Later segments' SMSC ids -> the first segment's, which the row keeps.
        self._aliases: OrderedDict[str, str] = OrderedDict()
        self._held: list[tuple[float, Receipt]] = []
        self._handling = False
        self._stop = threading.Event()
        self._reassembly = Reassembly()
        self._receiver = threading.Thread(
            target=self._receive_loop, name=f"smpp-{sender.code}-receiver", daemon=True
        )

    def start(self) -> SenderBind:
        self.session.start()
        self._receiver.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._receiver.join(5)
        self.session.stop()

    @property
    def busy(self) -> bool:
        return self._handling or not self._inbox.empty() or bool(self._held)

    # -- submitting ---------------------------------------------------------------------------

    def submit_texts(
        self,
        texts: Sequence[tuple[str, str]],
        *,
        budget: float = SUBMIT_BUDGET,
        receipts: bool = True,
    ) -> list[TextOutcome]:
        """Submit (to, body) texts, each in its segments, through the window; one outcome per
        text, in order. Keyword replies (no row to update) ask for no receipt."""
        session = self.session
        deadline = time.monotonic() + budget
        parts = _segmented(texts)
        # (text, segment, submit_sm body) for every segment; built once, so a resubmit after
        # a drop is the same PDU (the same concatenation reference) under a new sequence.
        items = submit_bodies(
            source=self.sender.code,
            source_ton=self.source_ton,
            source_npi=self.source_npi,
            texts=[(to, segs or ()) for (to, _text), segs in zip(texts, parts, strict=True)],
            receipt=receipts,
        )
        answers: list[Waiting | None] = [None] * len(items)  # the answered ones
        throttled: dict[int, int] = {}
        todo = list(range(len(items)))
        while todo and time.monotonic() < deadline:
            if not session.bound:
                wait = FAILED_BIND_WAIT if session.last_error else BIND_WAIT
                if not session.wait_bound(min(deadline - time.monotonic(), wait)):
                    break  # not bound in time, or the bind is refused
            # All queued at once (the bodies are built): this thread then sleeps until the
            # round is answered, leaving the reader thread alone to keep the window full.
            round, entries = session.submit_round([items[i][2] for i in todo])
            session.wait_round(round, deadline=deadline)
            again = []
            for i, entry in zip(todo, entries, strict=True):
                status = entry.status
                if status is None:
                    again.append(i)  # never answered, so never taken: again after a rebind
                elif status in THROTTLING:
                    throttled[items[i][0]] = status
                    again.append(i)
                else:
                    answers[i] = entry
            todo = again
        if all(segs is not None and len(segs) == 1 for segs in parts):  # the common case
            return [
                TextOutcome(smsc_id=a.message_id)
                if a is not None and a.status == 0
                else self._outcome(t, [a], throttled)
                for t, a in enumerate(answers)
            ]
        by_text: list[list[Waiting | None]] = [[] for _ in texts]
        for (t, _s, _body), answer in zip(items, answers, strict=True):
            by_text[t].append(answer)
        return [
            self._outcome(t, got, throttled) if segs else TextOutcome(status=INVALID_LENGTH)
            for t, (got, segs) in enumerate(zip(by_text, parts, strict=True))
        ]

    def _outcome(self, t: int, got: list[Waiting | None], throttled: dict[int, int]) -> TextOutcome:
        """A text's outcome from its segments' answers."""
        taken = [a.message_id for a in got if a is not None and a.status == 0]
        if taken:
            for later in taken[1:]:
                self._aliases[later] = taken[0]
            while len(self._aliases) > ALIASES_KEPT:
                self._aliases.popitem(last=False)
            return TextOutcome(smsc_id=taken[0])
        refused = [a.status for a in got if a is not None and a.status]
        if refused:
            return TextOutcome(status=refused[0])
        if t in throttled:
            return TextOutcome(status=throttled[t])
        return TextOutcome(status=self.session.bind_status)

    # -- receiving ----------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        try:
            while not self._stop.is_set():
                batch: list[Any] = []
                try:
                    batch.append(self._inbox.get(timeout=0.2))
                    while len(batch) < 500:
                        batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    pass
                if not batch and not self._held:
                    continue
                self._handling = True
                try:
                    close_old_connections()
                    self._handle(batch)
                except Exception:
                    logger.exception("smpp %s: deliver_sm not applied; again", self.sender.code)
                    for pdu in batch:
                        self._inbox.put(pdu)
                    self._stop.wait(1.0)
                finally:
                    self._handling = False
        finally:
            connection.close()

    def _handle(self, batch: list[Any]) -> None:
        """Apply receipts and inbound texts, then acknowledge them (an SMSC redelivers what
        was never acknowledged, so nothing is lost if this process dies first)."""
        now = time.monotonic()
        receipts: list[tuple[float, Receipt]] = []
        for pdu in batch:
            if is_receipt(pdu):
                receipt = receipt_parse(pdu)
                if receipt is None:
                    logger.warning("smpp %s: unreadable receipt", self.sender.code)
                    continue
                primary = self._aliases.get(receipt.smsc_id)
                if primary is not None:
                    receipt = Receipt(primary, receipt.stat, receipt.err, receipt.done_at)
                receipts.append((now, receipt))
            else:
                self._handle_inbound(pdu)
        due = receipts + self._held
        if due:
            first_seen = {r.smsc_id: at for at, r in due}
            unmatched = receipts_apply(sender_id=self.sender.pk, receipts=[r for _a, r in due])
            self._held = [
                (first_seen[r.smsc_id], r)
                for r in unmatched
                if now - first_seen[r.smsc_id] < UNMATCHED_KEPT_SECONDS
            ]
            if len(unmatched) > len(self._held):
                logger.warning(
                    "smpp %s: %d receipt(s) for messages we never sent",
                    self.sender.code,
                    len(unmatched) - len(self._held),
                )
        for pdu in batch:
            self.session.respond(pdu.sequence, "deliver_sm_resp")

    def _handle_inbound(self, pdu: Any) -> None:
        inbound = inbound_parse(pdu, self._reassembly)
        if inbound is None:
            return
        reply = inbound_reply(sender=self.sender, inbound=inbound)
        if reply:
            [outcome] = self.submit_texts([(inbound.sender_phone, reply)], receipts=False)
            if not outcome.smsc_id:
                logger.warning(
                    "smpp %s: the reply to an inbound text was not taken (status %s)",
                    self.sender.code,
                    outcome.status,
                )


def _segmented(texts: Sequence[tuple[str, str]]) -> list[list[Segment] | None]:
    """Each text's segments (None: too long for SMS). A one-segment text sent to many numbers
    is split once; a long one gets its own concatenation reference per number."""
    once: dict[str, list[Segment]] = {}
    parts: list[list[Segment] | None] = []
    for _to, text in texts:
        segs = once.get(text)
        if segs is None:
            try:
                segs = segments(text)
            except ValueError:
                parts.append(None)
                continue
            if len(segs) == 1:
                once[text] = segs
        parts.append(segs)
    return parts


# -- the binds of this process ----------------------------------------------------------------

_BINDS: dict[int, SenderBind] = {}
_LOCK = threading.Lock()


def bind_for(sender: Sender) -> SenderBind:
    """This process's bind for the sender, opened (or reopened with new settings) if need be."""
    settings, ton, npi = bind_settings(sender)
    with _LOCK:
        bind = _BINDS.get(sender.pk)
        if bind is not None and (bind.settings, bind.source_ton, bind.source_npi) == (
            settings,
            ton,
            npi,
        ):
            bind.sender = sender
            return bind
        if bind is not None:
            bind.stop()
        bind = _BINDS[sender.pk] = SenderBind(sender, settings, ton, npi).start()
        return bind


def binds_keep(senders: Sequence[Sender]) -> None:
    """Hold a bind for each of these senders and none for any other."""
    for sender in senders:
        bind_for(sender)
    wanted = {s.pk for s in senders}
    with _LOCK:
        gone = [pk for pk in _BINDS if pk not in wanted]
        for pk in gone:
            _BINDS.pop(pk).stop()


def binds_close() -> None:
    binds_keep([])


def binds_busy() -> bool:
    with _LOCK:
        return any(bind.busy for bind in _BINDS.values())
