"""The simulator's webhook views: signature-checked like Twilio's, then the same code path
a real carrier's callbacks take."""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from schoolsms.accounts.models import Sender
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.gateway import SimulatorGateway, auth_token
from schoolsms.messaging.callbacks import (
    CallbackReport,
    inbound_handle,
    status_callbacks_finish,
    status_updates_apply,
)
from schoolsms.messaging.gateway import StatusUpdate

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


# Receipts arrive by the thousand per broadcast; the sender's token is looked up once every
# few seconds, not once a request (receipts need nothing else of the sender).
_TOKENS: dict[str, tuple[float, str]] = {}
TOKEN_CACHE_SECONDS = 5.0


def _token(sender_code: str) -> str:
    cached = _TOKENS.get(sender_code)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    token = auth_token(get_object_or_404(Sender, code=sender_code))
    _TOKENS[sender_code] = (time.monotonic() + TOKEN_CACHE_SECONDS, token)
    return token


# A status callback is taken in three steps: verify its signature, parse it, apply it. The
# view takes one request at a time; the simulator's callback task takes the same steps for
# each callback it signs, then applies the whole batch at once (see tasks.callbacks_deliver).


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
    report = status_updates_apply(family=SimulatorGateway.code_family, updates=updates)
    status_callbacks_finish(report)
    return report


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest, sender_code: str) -> HttpResponse:
    if not twilio_wire.signature_valid(request, _token(sender_code)):
        return HttpResponseForbidden("bad signature")
    status_updates_take(twilio_wire.parse_status_form(request.POST))
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, sender_code: str) -> HttpResponse:
    sender = get_object_or_404(Sender, code=sender_code)
    if not twilio_wire.signature_valid(request, auth_token(sender)):
        return HttpResponseForbidden("bad signature")
    gateway = SimulatorGateway(sender)
    for message in gateway.parse_inbound(request):
        inbound_handle(gateway=gateway, sender=sender, inbound=message)
    # The reply goes out through the API (so it is recorded), not as TwiML.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
