"""The simulated carrier's side of delivery: it settles what it accepted, then posts Twilio's
status callbacks, signed, to our own webhook view."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, QueryDict
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
# and tried again (Twilio's real race, made harmless here), for up to this many rounds;
# after that it is dropped and the reconciler asks the carrier instead.
HOLD_ROUNDS = 50
HOLD_SECONDS = 0.2
BATCH = 2000


def signed_request(*, path: str, params: dict[str, str], token: str) -> HttpRequest:
    """A webhook request as Twilio would make it: form-encoded, signed with the auth token
    over the public URL. Built in memory (the WSGI layer adds nothing the view reads); the
    live-server tests send the same thing over real HTTP."""
    public = urlsplit(settings.SCHOOLSMS_PUBLIC_URL)
    url = settings.SCHOOLSMS_PUBLIC_URL + path
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = path
    request.META = {
        "HTTP_HOST": public.netloc,
        "SERVER_NAME": public.hostname or "localhost",
        "SERVER_PORT": str(public.port or (443 if public.scheme == "https" else 80)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_X_TWILIO_SIGNATURE": twilio_wire.sign(url=url, params=params, auth_token=token),
    }
    request.POST = QueryDict(urlencode(params))
    return request


def post_signed(*, path: str, params: dict[str, str], token: str) -> int:
    """Deliver one signed webhook request through URL resolution and the view."""
    match = resolve(path)
    request = signed_request(path=path, params=params, token=token)
    return int(match.func(request, *match.args, **match.kwargs).status_code)


@task(queue_name="callbacks", priority=10)
def simulator_callbacks_task(sender_code: str) -> dict[str, Any]:
    """Settle every message of the sender whose callback delay has passed and post its
    callbacks. Each send enqueues one of these; whichever runs first does the work."""
    return callbacks_deliver(sender_code=sender_code, limit=BATCH)


def callbacks_deliver(*, sender_code: str, limit: int, reschedule: bool = True) -> dict[str, Any]:
    """Post the callbacks of up to `limit` due messages (see simulator_callbacks_task)."""
    now = timezone.now()
    delay = dt.timedelta(seconds=settings.SCHOOLSMS_SIMULATOR_CALLBACK_DELAY)
    due = list(
        SimulatedMessage.objects.filter(
            sender=sender_code,
            callbacks_at__isnull=True,
            message_ref__isnull=False,
            created_at__lte=now - delay,
        ).order_by("created_at", "id")[:limit]
    )
    if not due:
        return {"posted": 0}
    # The carrier's own record settles first, whether or not our webhook hears of it.
    final: dict[str, list[int]] = defaultdict(list)
    for message in due:
        if message.status == "queued":
            final[callbacks_for(message.error_code)[-1][0]].append(message.pk)
    for status, group in final.items():
        SimulatedMessage.objects.filter(pk__in=group).update(status=status, updated_at=now)
    sids = [m.sid for m in due]
    known = set(
        Message.objects.filter(carrier_message_id__in=sids).values_list(
            "carrier_message_id", flat=True
        )
    )
    give_up = now - dt.timedelta(seconds=HOLD_SECONDS * HOLD_ROUNDS)
    ready = [m for m in due if m.sid in known]
    dropped = [m.pk for m in due if m.sid not in known and m.created_at < give_up]
    held = len(due) - len(ready) - len(dropped)
    token = auth_token(Sender.objects.get(code=sender_code))
    path = reverse("simulator-status", args=[sender_code])
    match = resolve(path)
    posted = 0
    with transaction.atomic():
        for message in ready:
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
                request = signed_request(path=path, params=params, token=token)
                match.func(request, *match.args, **match.kwargs)
                posted += 1
        SimulatedMessage.objects.filter(pk__in=[m.pk for m in ready] + dropped).update(
            callbacks_at=now
        )
    if not reschedule:
        pass
    elif len(due) == limit:
        simulator_callbacks_task.enqueue(sender_code)
    elif held:
        simulator_callbacks_task.using(run_after=now + dt.timedelta(seconds=HOLD_SECONDS)).enqueue(
            sender_code
        )
    return {"posted": posted, "held": held, "dropped": len(dropped)}
