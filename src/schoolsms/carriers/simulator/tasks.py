"""The simulated carrier's side of delivery: it settles what it accepted, then posts Twilio's
status callbacks, signed, to our own webhook view."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone
from django_tasks import task

from schoolsms.accounts.models import Sender
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.gateway import auth_token
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.carriers.simulator.scenario import callbacks_for
from schoolsms.messaging.models import Message

# A callback for a message whose sending worker has not recorded the sid yet is held back
# and tried again (Twilio's real race, made harmless here), this many times.
HOLD_ROUNDS = 50
HOLD_SECONDS = 0.2


def post_signed(*, path: str, params: dict[str, str], token: str) -> int:
    """Deliver one webhook request the way Twilio would: form-encoded, signed with the auth
    token over the public URL, through URL resolution and the view."""
    public = urlsplit(settings.SCHOOLSMS_PUBLIC_URL)
    url = settings.SCHOOLSMS_PUBLIC_URL + path
    request = RequestFactory().post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        secure=public.scheme == "https",
        headers={"X-Twilio-Signature": twilio_wire.sign(url=url, params=params, auth_token=token)},
        HTTP_HOST=public.netloc,
    )
    match = resolve(path)
    return int(match.func(request, *match.args, **match.kwargs).status_code)


@task(queue_name="callbacks", priority=10)
def simulator_callbacks_task(sender_code: str, sids: list[str], round: int = 0) -> dict[str, Any]:
    now = timezone.now()
    stored = list(SimulatedMessage.objects.filter(sid__in=sids))
    if round == 0:
        # The carrier's own record settles first, whether or not our webhook hears of it.
        final: dict[str, list[str]] = defaultdict(list)
        for message in stored:
            final[callbacks_for(message.error_code)[-1][0]].append(message.sid)
        for status, group in final.items():
            SimulatedMessage.objects.filter(sid__in=group).update(status=status, updated_at=now)
    known = set(
        Message.objects.filter(carrier_message_id__in=sids).values_list(
            "carrier_message_id", flat=True
        )
    )
    held = [m.sid for m in stored if m.sid not in known]
    if held and round < HOLD_ROUNDS:
        simulator_callbacks_task.using(run_after=now + dt.timedelta(seconds=HOLD_SECONDS)).enqueue(
            sender_code, held, round + 1
        )
    sender = Sender.objects.get(code=sender_code)
    token = auth_token(sender)
    path = reverse("simulator-status", args=[sender_code])
    posted = 0
    with transaction.atomic():
        for message in stored:
            if message.sid not in known:
                continue
            for status, code in callbacks_for(message.error_code):
                params = {
                    "AccountSid": "AC" + "0" * 32,
                    "ApiVersion": "2010-04-01",
                    "From": message.sender,
                    "To": message.to,
                    "MessageSid": message.sid,
                    "SmsSid": message.sid,
                    "MessageStatus": status,
                    "SmsStatus": status,
                }
                if code:
                    params["ErrorCode"] = code
                post_signed(path=path, params=params, token=token)
                posted += 1
    return {"posted": posted, "held": len(held)}
