"""Twilio's webhook wire format: status callbacks, inbound texts and X-Twilio-Signature.

Shared by the simulator (which speaks it) and any real Twilio gateway."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, QueryDict
from twilio.request_validator import RequestValidator

from schoolsms.messaging.gateway import CarrierStatus, InboundMessage, StatusUpdate

# Twilio message statuses in our words (reference §2); the others (read, receiving, ...)
# say nothing about delivery.
STATUSES: dict[str, CarrierStatus] = {
    "queued": "sending",
    "accepted": "sending",
    "scheduled": "sending",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
}


def _done_date(raw: str) -> dt.datetime | None:
    """RawDlrDoneDate, `YYMMDDhhmm` (UTC)."""
    if not raw:
        return None
    try:
        return dt.datetime.strptime(raw, "%y%m%d%H%M").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def status_update(*, sid: str, status: str, code: str = "", done: str = "") -> StatusUpdate | None:
    """One status callback's fields in our words (None: it says nothing about delivery)."""
    carrier_status = STATUSES.get(status.lower())
    if not sid or carrier_status is None:
        return None
    return StatusUpdate(carrier_id=sid, status=carrier_status, code=code, at=_done_date(done))


def parse_status_form(form: Mapping[str, Any]) -> list[StatusUpdate]:
    update = status_update(
        sid=form.get("MessageSid") or form.get("SmsSid") or "",
        status=form.get("MessageStatus") or form.get("SmsStatus") or "",
        code=form.get("ErrorCode") or "",
        done=form.get("RawDlrDoneDate") or "",
    )
    return [] if update is None else [update]


def parse_inbound_form(form: QueryDict) -> list[InboundMessage]:
    sender_phone = form.get("From") or ""
    carrier_id = form.get("MessageSid") or form.get("SmsSid") or ""
    # A number is at most 15 digits after "+" (E.164) and a sid a few dozen characters:
    # anything longer is not from Twilio, and would not fit the columns that keep it.
    if not sender_phone or len(sender_phone) > 16 or len(carrier_id) > 64:
        return []
    return [
        InboundMessage(
            sender_phone=sender_phone,
            to=form.get("To") or "",
            body=form.get("Body") or "",
            carrier_id=carrier_id,
        )
    ]


def public_url(request: HttpRequest) -> str:
    """The URL the carrier requested, as the public sees it (behind a TLS proxy the request
    itself only knows the inside address)."""
    return settings.SCHOOLSMS_PUBLIC_URL + request.get_full_path()


def signature_valid(request: HttpRequest, auth_token: str) -> bool:
    """Checked against the public URL first, then the URL as this server saw it."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    expected = validator.compute_signature(public_url(request), request.POST)
    if hmac.compare_digest(expected, signature):
        return True  # the usual case, checked with one HMAC
    if validator.validate(public_url(request), request.POST, signature):
        return True  # with or without an explicit port
    try:
        seen = request.build_absolute_uri()
    except DisallowedHost:
        return False
    return seen != public_url(request) and validator.validate(seen, request.POST, signature)


def sign(*, url: str, params: Mapping[str, str], auth_token: str) -> str:
    """X-Twilio-Signature of a form whose fields each hold one value: HMAC-SHA1 over the URL
    followed by every name and value in name order (what RequestValidator computes, without
    its per-value sorting, which a one-value form does not need)."""
    data = url + "".join([name + value for name, value in sorted(params.items())])
    digest = hmac.digest(auth_token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(digest).decode()


def form_signature_valid(
    *, url: str, params: Mapping[str, str], signature: str, auth_token: str
) -> bool:
    """The check `signature_valid` makes, for a form already read into a dict."""
    if not signature or not auth_token:
        return False
    return hmac.compare_digest(sign(url=url, params=params, auth_token=auth_token), signature)
