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
from schoolsms.carriers.simulator.config import auth_token
from schoolsms.carriers.simulator.inbound import inbound_texts_take
from schoolsms.carriers.simulator.receipts import status_updates_take

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
    inbound_texts_take(sender=sender, request=request)
    # The reply goes out through the API (so it is recorded), not as TwiML.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
