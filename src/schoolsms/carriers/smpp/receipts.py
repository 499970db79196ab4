"""SMSC delivery receipts: read from a deliver_sm (the text form `id:… stat:… err:…`, or the
TLVs alone; dates with or without seconds) and applied to our rows through messaging's
callbacks, matched by the SMSC's message id."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from schoolsms.messaging import codes
from schoolsms.messaging.callbacks import (
    CallbackReport,
    status_callbacks_finish,
    status_updates_apply,
)
from schoolsms.messaging.gateway import StatusUpdate
from schoolsms.messaging.selectors import carrier_ids_known

from .pdus import ESM_RECEIPT

# message_state TLV (SMPP 3.4 §5.2.28) as the receipt's stat word.
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
NOT_FINAL = {"ENROUTE", "ACCEPTD"}
_FIELD = re.compile(r"(id|stat|err|done date|submit date):\s*(\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class Receipt:
    smsc_id: str
    stat: str  # the receipt's stat word: DELIVRD, UNDELIV, REJECTD, …
    err: str = ""
    done_at: dt.datetime | None = None


def is_receipt(pdu: Any) -> bool:
    return bool((pdu.esm_class or 0) & 0x3C == ESM_RECEIPT or pdu.receipted_message_id)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\0")
    return "" if value is None else str(value)


def receipt_date(raw: str) -> dt.datetime | None:
    """YYMMDDhhmm or YYMMDDhhmmss (some SMSCs add seconds), taken as UTC."""
    # By length: strptime would read 10 digits with the seconds form too (14:3:2 for 1432).
    form = {10: "%y%m%d%H%M", 12: "%y%m%d%H%M%S"}.get(len(raw))
    if form is None or not raw.isdigit():
        return None
    try:
        return dt.datetime.strptime(raw, form).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def receipt_parse(pdu: Any) -> Receipt | None:
    """The receipt a deliver_sm carries; the TLVs win over the text where both are given."""
    fields = {k.lower(): v for k, v in _FIELD.findall(_text(pdu.short_message))}
    smsc_id = _text(pdu.receipted_message_id) or fields.get("id", "")
    stat = MESSAGE_STATES.get(pdu.message_state or 0) or fields.get("stat", "").upper()
    if not smsc_id or not stat:
        return None
    err = fields.get("err", "")
    network_error = pdu.network_error_code
    if not err and isinstance(network_error, bytes) and len(network_error) == 3:
        err = f"{int.from_bytes(network_error[1:], 'big'):03d}"
    done = receipt_date(fields.get("done date", ""))
    return Receipt(smsc_id=smsc_id, stat=stat, err=err, done_at=done)


def carrier_id(sender_id: int, smsc_id: str) -> str:
    """How a message's SMSC id is kept on its row: with the sender, as two SMSCs may well
    number their messages alike."""
    return f"{sender_id}:{smsc_id}"[:64]


def status_update(sender_id: int, receipt: Receipt) -> StatusUpdate | None:
    if receipt.stat in NOT_FINAL:
        return None
    cid = carrier_id(sender_id, receipt.smsc_id)
    if receipt.stat == "DELIVRD":
        return StatusUpdate(cid, "delivered", at=receipt.done_at)
    return StatusUpdate(cid, "failed", code=receipt.stat, at=receipt.done_at)


def receipts_apply(*, sender_id: int, receipts: Iterable[Receipt]) -> list[Receipt]:
    """Apply final receipts; returns those whose message we do not know yet (its
    submit_sm_resp is still being recorded, maybe by another worker), to try again."""
    updates: dict[str, tuple[Receipt, StatusUpdate]] = {}
    for receipt in receipts:
        update = status_update(sender_id, receipt)
        if update is not None:
            updates[update.carrier_id] = (receipt, update)
    if not updates:
        return []
    known = carrier_ids_known(carrier_ids=list(updates))
    report: CallbackReport = status_updates_apply(
        family=codes.SMPP_STAT, updates=[u for cid, (_r, u) in updates.items() if cid in known]
    )
    status_callbacks_finish(report)
    return [r for cid, (r, _u) in updates.items() if cid not in known]
