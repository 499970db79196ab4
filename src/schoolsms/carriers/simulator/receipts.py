"""The simulated carrier's receipts: it settles what it accepted, then sends Twilio's status
callbacks, signed, through the webhook's own steps (verify, parse, apply)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from schoolsms.accounts.models import Sender
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.config import auth_token, status_path
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.carriers.simulator.scenario import callbacks_for
from schoolsms.messaging import codes
from schoolsms.messaging.callbacks import (
    CallbackReport,
    status_callbacks_finish,
    status_updates_apply,
)
from schoolsms.messaging.gateway import StatusUpdate
from schoolsms.messaging.models import Message

# A callback for a message whose sending worker has not recorded the sid yet is held back
# and tried again (Twilio's real race, made harmless here), for up to this many rounds;
# after that it is dropped and the reconciler asks the carrier instead.
HOLD_ROUNDS = 50
HOLD_SECONDS = 0.2


def callback_form(*, sid: str, sender: str, to: str, status: str, code: str) -> dict[str, str]:
    """The form fields of one Twilio status callback."""
    form = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "From": sender,
        "To": to,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if code:
        form["ErrorCode"] = code
    return form


# A status callback is taken in three steps: verify its signature, parse it, apply it. The
# webhook view takes one request at a time; callbacks_deliver takes the same steps for each
# callback it signs, then applies the whole batch at once.


def verified_status_updates(
    *, url: str, form: dict[str, str], signature: str, token: str
) -> list[StatusUpdate] | None:
    """The receipts in one signed callback form; None when the signature is wrong."""
    if not twilio_wire.form_signature_valid(
        url=url, params=form, signature=signature, auth_token=token
    ):
        return None
    return twilio_wire.parse_status_form(form)


def status_updates_take(updates: list[StatusUpdate]) -> CallbackReport:
    """Apply receipts, then schedule retries and complete finished broadcasts."""
    report = status_updates_apply(family=codes.TWILIO, updates=updates)
    status_callbacks_finish(report)
    return report


def _known_sids(sids: list[str]) -> set[str]:
    """Which sids our Message rows already carry (the sending worker recorded them)."""
    known: set[str] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(sids), 500):
            part = sids[start : start + 500]
            cursor.execute(
                f"SELECT carrier_message_id FROM {Message._meta.db_table} "
                "WHERE carrier_message_id IN "
                f"({', '.join(['%s'] * len(part))})",
                part,
            )
            known.update(sid for (sid,) in cursor.fetchall())
    return known


def callbacks_deliver(*, sender_code: str, limit: int) -> dict[str, Any]:
    """Post the callbacks of up to `limit` messages whose callback delay has passed. Returns
    what it did: `posted` callbacks, and `due`, `held` and `dropped` messages."""
    now = timezone.now()
    delay = dt.timedelta(seconds=settings.SCHOOLSMS_SIMULATOR_CALLBACK_DELAY)
    give_up = now - dt.timedelta(seconds=HOLD_SECONDS * HOLD_ROUNDS)
    adapt = connection.ops.adapt_datetimefield_value
    quote = connection.ops.quote_name
    table = quote(SimulatedMessage._meta.db_table)
    # Plain rows (this reads every message sent); the last column says whether a message
    # whose sid we have not recorded has waited long enough to be given up on.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, sid, sender, {quote('to')}, status, error_code, "
            f"CASE WHEN created_at < %s THEN 1 ELSE 0 END FROM {table} "
            "WHERE sender = %s AND callbacks_at IS NULL AND message_ref IS NOT NULL "
            "AND created_at <= %s ORDER BY created_at, id LIMIT %s",
            [adapt(give_up), sender_code, adapt(now - delay), limit],
        )
        due = cursor.fetchall()
    if not due:
        return {"posted": 0, "due": 0, "held": 0, "dropped": 0}
    stamp = adapt(now)
    known = _known_sids([row[1] for row in due])
    ready = [row for row in due if row[1] in known]
    dropped = [row for row in due if row[1] not in known and row[6]]
    held = [row for row in due if row[1] not in known and not row[6]]
    token = auth_token(Sender.objects.get(code=sender_code))
    url = settings.SCHOOLSMS_PUBLIC_URL + status_path(sender_code)
    updates: list[StatusUpdate] = []
    posted = 0
    for _pk, sid, sender, to, _status, error_code, _stale in ready:
        for status, code in callbacks_for(error_code):
            form = callback_form(sid=sid, sender=sender, to=to, status=status, code=code)
            # Signed as Twilio signs; then our webhook's own steps: verify, parse.
            signature = twilio_wire.sign(url=url, params=form, auth_token=token)
            received = verified_status_updates(url=url, form=form, signature=signature, token=token)
            if received is not None:
                updates.extend(received)
                posted += 1

    def settled(rows: list[tuple[Any, ...]], done: Any) -> list[tuple[Any, ...]]:
        # The carrier's own record settles whether or not our webhook hears of it.
        return [
            (callbacks_for(row[5])[-1][0] if row[4] == "queued" else row[4], stamp, done, row[0])
            for row in rows
        ]

    settle = f"UPDATE {table} SET status = %s, updated_at = %s, callbacks_at = %s WHERE id = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(settle, settled(held, None) + settled(dropped, stamp))
        status_updates_take(updates)
        cursor.executemany(settle, settled(ready, stamp))
    return {"posted": posted, "due": len(due), "held": len(held), "dropped": len(dropped)}
