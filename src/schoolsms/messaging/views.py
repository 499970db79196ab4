"""Pages of the Broadcasts tab: list, compose (live counters), a broadcast and its live progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import SEND, OrgRequest, org_required
from schoolsms.messaging import selectors, services
from schoolsms.messaging.confirmations import (
    breakdown_of,
    cancel_question,
    confirm_send,
    plural,
)
from schoolsms.messaging.forms import ScheduleForm
from schoolsms.messaging.languages import language_name
from schoolsms.messaging.models import (
    FAILED_REASONS,
    INELIGIBLE_REASONS,
    Broadcast,
    BroadcastStatus,
    DeliveryResult,
    Reason,
)
from schoolsms.messaging.text import text_check
from schoolsms.webutil import confirm_page, is_confirmed

PAGE_SIZE = 25
LIVE = (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)


def sending_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return org_required(SEND)(view)


def subtabs(active: str) -> list[tuple[str, str, bool]]:
    return [
        ("Broadcasts", reverse("broadcasts:list"), active == "list"),
        ("New broadcast", reverse("broadcasts:new"), active == "new"),
    ]


def broadcast_or_404(request: OrgRequest, pk: int) -> Broadcast:
    org = request.organization
    broadcast = selectors.broadcast_get(organization=org, broadcast_id=pk)
    if broadcast is None:
        raise Http404("No such broadcast in this organization.")
    return broadcast


def audience_description(broadcast: Broadcast) -> str:
    parts = []
    if broadcast.audience_roles:
        roles = ", ".join(r.title() for r in broadcast.audience_roles)
        parts.append(f"roles {roles}")
    if broadcast.audience_schools:
        parts.append("schools " + ", ".join(broadcast.audience_schools))
    if broadcast.audience_external_ids:
        parts.append(plural(len(broadcast.audience_external_ids), "listed contact"))
    if not parts:
        return "All contacts"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


@sending_page
def broadcast_list(request: OrgRequest) -> HttpResponse:
    org = request.organization
    page = Paginator(selectors.broadcasts_for_org(org), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.broadcast_counts_many(b.pk for b in page.object_list)
    rows = []
    for b in page.object_list:
        c = counts[b.pk]["by_result"]
        undelivered = (
            c[DeliveryResult.INELIGIBLE_TO_SEND.label] + c[DeliveryResult.FAILED_TO_SEND.label]
        )
        rows.append(
            {
                "broadcast": b,
                "total": counts[b.pk]["total"],
                "sent": c[DeliveryResult.SENT.label],
                "undelivered": undelivered,
                "pending": c[DeliveryResult.NOT_SENT_YET.label] + c[DeliveryResult.SENDING.label],
            }
        )
    context = {"page": page, "rows": rows, "subtabs": subtabs("list")}
    return render(request, "messaging/list.html", context)


def sms_log_url(broadcast: Broadcast, **extra: str) -> str:
    """The SMS Log page showing this broadcast's messages (from the day it was made)."""
    day = timezone.localtime(broadcast.created_at).date().isoformat()
    return (
        reverse("reports:sms-log")
        + f"?{urlencode({'broadcast': broadcast.pk, 'from': day, **extra})}"
    )


def detail_context(broadcast: Broadcast) -> dict[str, Any]:
    counts = selectors.broadcast_counts(broadcast)
    groups = []
    for result, codes in (
        (DeliveryResult.INELIGIBLE_TO_SEND, INELIGIBLE_REASONS),
        (DeliveryResult.FAILED_TO_SEND, FAILED_REASONS),
    ):
        rows = [
            (
                code,
                counts["by_reason"].get(code, 0),
                Reason(code).label,
                sms_log_url(broadcast, reason=code),
            )
            for code in codes
            if counts["by_reason"].get(code, 0)
        ]
        if rows:
            groups.append((result.label, rows))
    return {
        "sms_log_url": sms_log_url(broadcast),
        "reason_groups": groups,
        "broadcast": broadcast,
        "counts": counts,
        "results": [
            (value, label, counts["by_result"][label]) for value, label in DeliveryResult.choices
        ],
        "progress": selectors.broadcast_progress(counts),
        "live": broadcast.status in LIVE,
        "poll_seconds": poll_seconds(broadcast),
    }


def poll_seconds(broadcast: Broadcast) -> int:
    """Every 2 s while it sends or is about to; a broadcast scheduled for later changes rarely."""
    soon = timezone.now() + dt.timedelta(minutes=1)
    if broadcast.status == BroadcastStatus.SCHEDULED and (
        broadcast.scheduled_at is None or broadcast.scheduled_at > soon
    ):
        return 15
    return 2


@sending_page
def broadcast_detail(request: OrgRequest, pk: int) -> HttpResponse:
    broadcast = broadcast_or_404(request, pk)
    context = {
        **detail_context(broadcast),
        "check": text_check(broadcast.text),
        "texts": [
            (language_name(code), code, text, text_check(text))
            for code, text in [("en", broadcast.text), *broadcast.texts.items()]
        ],
        "audience": audience_description(broadcast),
        "schedule_form": ScheduleForm(),
        "cancelable": broadcast.status in services.CANCELABLE,
        "subtabs": subtabs("list"),
    }
    return render(request, "messaging/detail.html", context)


@sending_page
def progress_partial(request: OrgRequest, pk: int) -> HttpResponse:
    context = detail_context(broadcast_or_404(request, pk))
    return render(request, "messaging/_progress.html", context)


@sending_page
@require_POST
def broadcast_send(request: OrgRequest, pk: int) -> HttpResponse:
    broadcast = broadcast_or_404(request, pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        for field in form.errors:
            for error in form.errors[field]:
                messages.error(request, str(error))
        return redirect("broadcasts:detail", pk=pk)
    at = form.cleaned_data["send_at"]
    if broadcast.status == BroadcastStatus.DRAFT and not is_confirmed(request):
        return confirm_send(
            request,
            breakdown=breakdown_of(broadcast),
            at=at,
            back_url=reverse("broadcasts:detail", args=[pk]),
            back_posts=False,
        )
    try:
        services.broadcast_send(broadcast=broadcast, at=at)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(
            request, f"“{broadcast.name}” is {broadcast.get_status_display().lower()}."
        )
    return redirect("broadcasts:detail", pk=pk)


@sending_page
@require_POST
def broadcast_cancel(request: OrgRequest, pk: int) -> HttpResponse:
    broadcast = broadcast_or_404(request, pk)
    live = broadcast.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)
    if live and not is_confirmed(request):
        question, facts = cancel_question(
            broadcast=broadcast, counts=selectors.broadcast_counts(broadcast)
        )
        return confirm_page(
            request,
            question=question,
            facts=facts,
            confirm_label="Yes, cancel the broadcast",
            back_url=reverse("broadcasts:detail", args=[pk]),
            back_label="No, keep it going",
            danger=True,
        )
    try:
        services.broadcast_cancel(broadcast=broadcast)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"“{broadcast.name}” is canceled: nothing more will be sent.")
    return redirect("broadcasts:detail", pk=pk)
