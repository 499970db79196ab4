"""Every way a message row moves: the only writer of Message.result, reason, sent_at,
delivered_at and carrier_message_id (a test keeps it so).

Each transition is a compare-and-set: its UPDATE names the result it expects (and, for a
claimed row, the claim it completes), so a duplicate, a late receipt or a second worker changes
nothing. The edges are listed in EDGES and in the Message docstring; a test checks they agree.

Set-based on purpose: the per-row forms take executemany parameter rows (plain tuples, shapes
given in each docstring), and the results are written into the SQL, not bound (SQLite re-plans
a statement for every execution when a bound value meets `result`, the column partial indexes
are conditioned on, which made each UPDATE ten times slower).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import connection, transaction

from schoolsms.messaging.models import BroadcastStatus, DeliveryResult, Message

NOT_SENT = DeliveryResult.NOT_SENT_YET.value
SENDING = DeliveryResult.SENDING.value
SENT = DeliveryResult.SENT.value
INELIGIBLE = DeliveryResult.INELIGIBLE_TO_SEND.value
FAILED = DeliveryResult.FAILED_TO_SEND.value
NEW = "(new row)"


class Edge(NamedTuple):
    source: str  # a result's label, or NEW
    target: str
    transition: str  # the function here that makes the move


_LABEL = dict(DeliveryResult.choices)
_N, _G, _S, _I, _F = (
    _LABEL[NOT_SENT],
    _LABEL[SENDING],
    _LABEL[SENT],
    _LABEL[INELIGIBLE],
    _LABEL[FAILED],
)

EDGES: tuple[Edge, ...] = (
    Edge(NEW, _N, "fan_out_sql"),
    Edge(NEW, _I, "fan_out_sql"),
    Edge(NEW, _N, "invitation_rows_sql"),
    Edge(_N, _G, "rows_claim"),
    Edge(_G, _I, "claimed_mark_ineligible"),
    Edge(_G, _N, "claimed_hold"),
    Edge(_G, _G, "claimed_accept"),
    Edge(_G, _S, "claimed_accept"),
    Edge(_G, _F, "claimed_refuse"),
    Edge(_G, _I, "claimed_refuse"),
    Edge(_G, _N, "claimed_retry_later"),
    Edge(_G, _S, "receipts_apply"),
    Edge(_S, _S, "receipts_apply"),
    Edge(_G, _F, "receipt_refuse"),
    Edge(_S, _F, "receipt_refuse"),
    Edge(_G, _I, "receipt_refuse"),
    Edge(_S, _I, "receipt_refuse"),
    Edge(_G, _N, "receipt_retry_later"),
    Edge(_S, _N, "receipt_retry_later"),
    Edge(_G, _G, "reconcile_take_over"),
    Edge(_G, _N, "reconcile_not_received"),
    Edge(_G, _S, "reconcile_assume_sent"),
    Edge(_G, _F, "reconcile_give_up"),
)


def _table() -> str:
    return connection.ops.quote_name(Message._meta.db_table)


def _db(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# -- (new row) -> Not Sent Yet / Ineligible to Send ---------------------------------------------


def fan_out_sql(checked: str) -> str:
    """The INSERT that makes a broadcast's rows: Not Sent Yet, or Ineligible to Send with the
    first eligibility rule that stops it. `checked` is a SELECT of (contact_id, phone, position,
    reason) (see eligibility.audience_checked). Parameters: broadcast, organization,
    sender, created_at, updated_at, then the SELECT's own."""
    return f"""
INSERT INTO messaging_message (
    broadcast_id, organization_id, sender_id, contact_id, phone,
    result, reason, carrier_code, attempts, created_at, updated_at
)
SELECT %s, %s, %s, checked.contact_id, checked.phone,
    CASE WHEN checked.reason = '' THEN '{NOT_SENT}' ELSE '{INELIGIBLE}' END,
    checked.reason, '', 0, %s, %s
FROM ({checked}) checked
ORDER BY checked.contact_id, checked.position
"""


def invitation_rows_sql(invitable: str) -> str:
    """The INSERT that makes an opt-in invitation's rows, all Not Sent Yet: `invitable` is a
    SELECT of (contact_id, phone) (see invitations). Parameters: broadcast, organization,
    sender, created_at, updated_at, then the SELECT's own."""
    return f"""
INSERT INTO messaging_message (
    broadcast_id, organization_id, sender_id, contact_id, phone,
    result, reason, carrier_code, attempts, created_at, updated_at
)
SELECT %s, %s, %s, invitable.contact_id, invitable.phone,
    '{NOT_SENT}', '', '', 0, %s, %s
FROM ({invitable}) invitable
ORDER BY invitable.contact_id, invitable.phone
"""


# -- claiming and completing a claim -----------------------------------------------------------


class Claimed(NamedTuple):  # one per row claimed: cheaper to make than a dataclass
    id: int
    phone: str
    attempts: int
    language: str = "en"  # which of the broadcast's texts this row gets


def rows_claim(
    *, broadcast_id: int, limit: int, now: dt.datetime, after_id: int = 0
) -> list[Claimed]:
    """Not Sent Yet -> Sending for up to `limit` runnable rows of a broadcast that is still
    going out (a canceled broadcast's rows are never claimed), with ids above `after_id`.
    Committed on return.

    A send round passes the last id it claimed: rows put back to wait (quiet hours, retries)
    stay in the index ahead of the rows still to try, and a round claiming from the start
    each time would pass them all again for every batch (a million-row broadcast held for
    the night would cost a billion row reads)."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    table = _table()
    # `reason = ''` always holds for a Not Sent Yet row (a check constraint says so); naming
    # it lets the (broadcast, result, reason) index hand the rows over in id order, instead of
    # every runnable row of the broadcast being read and sorted for each claim.
    sql = (
        f"UPDATE {table} SET result = '{SENDING}', attempts = attempts + 1, claimed_at = %s, "
        "updated_at = %s "
        f"WHERE id IN (SELECT id FROM {table} WHERE broadcast_id = %s AND result = '{NOT_SENT}' "
        "AND reason = '' AND (next_attempt_at IS NULL OR next_attempt_at <= %s) AND id > %s "
        f"ORDER BY id LIMIT %s{skip_locked}) "
        f"AND result = '{NOT_SENT}' AND EXISTS (SELECT 1 FROM messaging_broadcast b "
        f"WHERE b.id = %s AND b.status = '{BroadcastStatus.SENDING.value}') "
        "RETURNING id, phone, attempts, language"
    )
    stamp = _db(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [stamp, stamp, broadcast_id, stamp, after_id, limit, broadcast_id])
        rows = cursor.fetchall()
    rows.sort()  # by id (the first column, RETURNING's order is not defined)
    return list(map(Claimed._make, rows))


def _complete_claims(sql_set: str, params: Sequence[Sequence[Any]]) -> None:
    """Sending -> ...: `sql_set` assigns columns; each params row ends with (id, claimed_at),
    so only the claim we made is completed (never one the reconciler took over)."""
    if not params:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {_table()} SET {sql_set} "
            f"WHERE id = %s AND result = '{SENDING}' AND claimed_at = %s",
            params,
        )


def claimed_mark_ineligible(params: Sequence[tuple[str, Any, int, Any]]) -> None:
    """Sending -> Ineligible to Send: the send-time re-check found a STOP, a block or a lost
    opt-in since dispatch. Rows: (reason, now, id, claimed_at)."""
    _complete_claims(f"result = '{INELIGIBLE}', reason = %s, updated_at = %s", params)


def claimed_hold(params: Sequence[tuple[Any, Any, int, Any]]) -> None:
    """Sending -> Not Sent Yet until quiet hours end; the attempt is given back (it was not
    one). Rows: (next_attempt_at, now, id, claimed_at)."""
    _complete_claims(
        f"result = '{NOT_SENT}', attempts = attempts - 1, next_attempt_at = %s, "
        "claimed_at = NULL, updated_at = %s",
        params,
    )


def claimed_accept(
    *,
    queued: Sequence[tuple[str, Any, int, Any]],
    sent: Sequence[tuple[str, Any, Any, int, Any]],
) -> None:
    """The carrier took the message. `queued` stays Sending with the carrier's id (Twilio's
    `queued`: receipts follow): rows (carrier_id, now, id, claimed_at). `sent` moves Sending ->
    Sent (the answer already means the network has it, as SMPP's submit_sm_resp): rows
    (carrier_id, sent_at, now, id, claimed_at)."""
    _complete_claims("carrier_message_id = %s, updated_at = %s", queued)
    _complete_claims(
        f"result = '{SENT}', carrier_message_id = %s, sent_at = %s, updated_at = %s", sent
    )


def claimed_retry_later(params: Sequence[tuple[Any, str, Any, int, Any]]) -> None:
    """Sending -> Not Sent Yet, to be tried at next_attempt_at: a retryable refusal or a
    transport error. Rows: (next_attempt_at, carrier_code, now, id, claimed_at)."""
    _complete_claims(
        f"result = '{NOT_SENT}', next_attempt_at = %s, carrier_code = %s, claimed_at = NULL, "
        "updated_at = %s",
        params,
    )


def claimed_refuse(params: Sequence[tuple[str, str, str, Any, int, Any]]) -> None:
    """Sending -> Failed to Send, or Ineligible to Send / opted_out: the carrier refused it for
    good. Rows: (result, reason, carrier_code, now, id, claimed_at)."""
    _complete_claims("result = %s, reason = %s, carrier_code = %s, updated_at = %s", params)


# -- receipts ----------------------------------------------------------------------------------

# Receipts that need no decision, applied set-based: a batch of messages' receipts of one kind
# in a few UPDATE ... FROM (VALUES ...) statements, one row of values per message. Each names
# the results it may move from (forward-only), exactly as applying the receipts one at a time
# would: `sent` moves Sending -> Sent; `delivered` stamps a Sent row once, or moves a Sending
# row (its `sent` overtaken) straight to Sent; `sent` then `delivered` for one message is the
# two in order (SET expressions read the row as it was before). Values: (sent_at, carrier_id)
# for ("sent",), else (sent_at, delivered_at, carrier_id).
RECEIPT_KINDS: dict[tuple[str, ...], str] = {
    ("sent",): f"result = '{SENT}', sent_at = v.column1, updated_at = %s "
    f"FROM ({{values}}) AS v WHERE carrier_message_id = v.column2 AND result = '{SENDING}'",
    ("delivered",): f"result = '{SENT}', sent_at = CASE WHEN result = '{SENDING}' "
    "THEN COALESCE(sent_at, v.column1) ELSE sent_at END, delivered_at = v.column2, "
    "updated_at = %s "
    f"FROM ({{values}}) AS v WHERE carrier_message_id = v.column3 AND (result = '{SENDING}' "
    f"OR (result = '{SENT}' AND delivered_at IS NULL))",
    ("sent", "delivered"): f"result = '{SENT}', sent_at = CASE WHEN result = '{SENDING}' "
    "THEN v.column1 ELSE sent_at END, delivered_at = v.column2, updated_at = %s "
    f"FROM ({{values}}) AS v WHERE carrier_message_id = v.column3 AND (result = '{SENDING}' "
    f"OR (result = '{SENT}' AND delivered_at IS NULL))",
}
# Messages per statement (three values each: well under SQLite's and PostgreSQL's limits).
RECEIPTS_PER_STATEMENT = 2000


def receipts_apply(
    cursor: Any, kind: tuple[str, ...], rows: Sequence[Sequence[Any]], *, now: Any
) -> list[int]:
    """Sending -> Sent, or Sent -> Sent with delivered_at, for receipts of one kind (a key of
    RECEIPT_KINDS), one row of values per message (shapes above; times adapted for the
    database, as `now`). Returns the broadcast of every row that moved."""
    if not rows:
        return []
    width = len(rows[0])
    # PostgreSQL types parameters in a VALUES list as text unless told.
    one = (
        "(" + "%s::timestamptz, " * (width - 1) + "%s)"
        if connection.vendor == "postgresql"
        else "(" + ", ".join(["%s"] * width) + ")"
    )
    moved: list[int] = []
    for start in range(0, len(rows), RECEIPTS_PER_STATEMENT):
        part = rows[start : start + RECEIPTS_PER_STATEMENT]
        values = "VALUES " + ", ".join([one] * len(part))
        cursor.execute(
            f"UPDATE {_table()} SET {RECEIPT_KINDS[kind].format(values=values)} "
            "RETURNING broadcast_id",
            [now, *(value for row in part for value in row)],
        )
        moved.extend(int(b) for (b,) in cursor.fetchall())
    return moved


def _returning(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def receipt_sent(*, carrier_id: str, at: dt.datetime, now: dt.datetime) -> list[int]:
    """Sending -> Sent for one `sent` receipt; returns the broadcast of the row it moved."""
    rows = _returning(
        f"UPDATE {_table()} SET result = '{SENT}', sent_at = %s, updated_at = %s "
        f"WHERE carrier_message_id = %s AND result = '{SENDING}' RETURNING broadcast_id",
        [_db(at), _db(now), carrier_id],
    )
    return [int(b) for (b,) in rows]


def receipt_delivered(
    *, carrier_id: str, at: dt.datetime, now: dt.datetime
) -> tuple[bool, list[int]]:
    """One `delivered` receipt: Sent -> Sent with delivered_at (once), or Sending -> Sent when it
    overtook `sent`. Returns (applied, the broadcasts of rows that left Sending)."""
    stamp, when = _db(now), _db(at)
    table = _table()
    if _returning(
        f"UPDATE {table} SET delivered_at = %s, updated_at = %s "
        f"WHERE carrier_message_id = %s AND result = '{SENT}' AND delivered_at IS NULL "
        "RETURNING id",
        [when, stamp, carrier_id],
    ):
        return True, []
    rows = _returning(
        f"UPDATE {table} SET result = '{SENT}', sent_at = COALESCE(sent_at, %s), "
        "delivered_at = %s, updated_at = %s "
        f"WHERE carrier_message_id = %s AND result = '{SENDING}' RETURNING broadcast_id",
        [when, when, stamp, carrier_id],
    )
    return bool(rows), [int(b) for (b,) in rows]


def receipt_retry_later(
    *,
    row_id: int,
    expected: str,
    carrier_id: str,
    next_attempt_at: dt.datetime,
    carrier_code: str,
    now: dt.datetime,
) -> bool:
    """Sending or Sent (`expected`, undelivered) -> Not Sent Yet: a retryable failure receipt.
    The carrier id goes (a late copy of this receipt then matches nothing), and so does
    sent_at: the next attempt is a new send."""
    return bool(
        Message.objects.filter(
            pk=row_id, result=expected, carrier_message_id=carrier_id, delivered_at__isnull=True
        ).update(
            result=NOT_SENT,
            next_attempt_at=next_attempt_at,
            carrier_code=carrier_code,
            carrier_message_id=None,
            claimed_at=None,
            sent_at=None,
            updated_at=now,
        )
    )


def receipt_refuse(
    *,
    row_id: int,
    expected: str,
    carrier_id: str,
    result: str,
    reason: str,
    carrier_code: str,
    now: dt.datetime,
) -> bool:
    """Sending or Sent (`expected`, undelivered) -> Failed to Send, or Ineligible to Send /
    opted_out: a failure receipt with no retry left."""
    return bool(
        Message.objects.filter(
            pk=row_id, result=expected, carrier_message_id=carrier_id, delivered_at__isnull=True
        ).update(result=result, reason=reason, carrier_code=carrier_code, updated_at=now)
    )


# -- reconciling a dead worker's claim ---------------------------------------------------------


def reconcile_take_over(*, row_id: int, claimed_at: dt.datetime, now: dt.datetime) -> bool:
    """Sending -> Sending, claimed again by the reconciler: first, so two reconcilers (or a
    late original worker) never both complete the row."""
    return bool(
        Message.objects.filter(pk=row_id, result=SENDING, claimed_at=claimed_at).update(
            claimed_at=now
        )
    )


def _taken(row_id: int, now: dt.datetime) -> Any:
    return Message.objects.filter(pk=row_id, result=SENDING, claimed_at=now)


def reconcile_record_carrier_id(*, row_id: int, carrier_id: str, now: dt.datetime) -> bool:
    """Sending -> Sending: the carrier has the message; its id, which the dead worker never
    recorded, is kept so the carrier's status (and later receipts) can be applied."""
    return bool(_taken(row_id, now).update(carrier_message_id=carrier_id, updated_at=now))


def reconcile_not_received(*, row_id: int, attempts: int, now: dt.datetime) -> bool:
    """Sending -> Not Sent Yet: the carrier never got it, so it is sent again (the attempt
    given back)."""
    return bool(
        _taken(row_id, now).update(
            result=NOT_SENT,
            attempts=max(attempts - 1, 0),
            carrier_message_id=None,
            claimed_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )


def reconcile_assume_sent(*, row_id: int, now: dt.datetime) -> bool:
    """Sending -> Sent: the carrier cannot say, but it gave an id, so it took the message."""
    return bool(_taken(row_id, now).update(result=SENT, sent_at=now, updated_at=now))


def reconcile_give_up(*, row_id: int, reason: str, now: dt.datetime) -> bool:
    """Sending -> Failed to Send: the carrier cannot say and never gave an id; failing is safer
    than risking a second copy."""
    return bool(_taken(row_id, now).update(result=FAILED, reason=reason, updated_at=now))
