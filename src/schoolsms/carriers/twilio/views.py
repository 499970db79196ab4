"""Twilio's webhooks: every request's X-Twilio-Signature checked with the token of the sender
it names, against SCHOOLSMS_PUBLIC_URL + path; a bad or missing one changes nothing."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from schoolsms.carriers import twilio_wire
from schoolsms.carriers.twilio.config import TwilioAccount, accounts_for_request
from schoolsms.carriers.twilio.inbound import inbound_take
from schoolsms.carriers.twilio.receipts import status_callback_take
from schoolsms.carriers.twilio.tasks import held_statuses_task_ensure

logger = logging.getLogger(__name__)


def _signers(request: HttpRequest) -> list[TwilioAccount]:
    """The senders the request names whose token signed it (each token checked once)."""
    verdicts: dict[str, bool] = {}
    signers = []
    for account in accounts_for_request(request.POST):
        token = account.auth_token
        if token not in verdicts:
            verdicts[token] = twilio_wire.signature_valid(request, token)
        if verdicts[token]:
            signers.append(account)
    return signers


def _forbidden(request: HttpRequest) -> HttpResponse:
    logger.warning(
        "Twilio webhook %s for account %s: signature missing or wrong",
        request.path,
        (request.POST.get("AccountSid") or "?")[:34],
    )
    return HttpResponseForbidden("bad signature")


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    signers = _signers(request)
    if not signers:
        return _forbidden(request)
    if status_callback_take(form=request.POST, signers=signers) == "held":
        held_statuses_task_ensure()
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    signers = _signers(request)
    if not signers:
        return _forbidden(request)
    to = request.POST.get("To") or ""
    account = next((a for a in signers if a.serves(to)), signers[0])
    return HttpResponse(inbound_take(form=request.POST, account=account), content_type="text/xml")
