"""Pages of the Broadcasts tab: list, compose (live counters), a broadcast and its live progress."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import SEND, OrgRequest, org_required
from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import ContactRole
from schoolsms.messaging import selectors, services
from schoolsms.messaging.forms import BroadcastForm, ScheduleForm
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.text import client_tables, text_check

PAGE_SIZE = 25
LIVE = (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)


def in_org_timezone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Times on these pages are read and shown in the organization's time zone."""

    @wraps(view)
    def wrapper(request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        org: Organization = request.organization
        with timezone.override(zoneinfo.ZoneInfo(org.timezone)):
            return view(request, *args, **kwargs)

    return wrapper


def sending_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return org_required(SEND)(in_org_timezone(view))


def subtabs(active: str) -> list[tuple[str, str, bool]]:
    return [
        ("Broadcasts", reverse("broadcasts:list"), active == "list"),
        ("New broadcast", reverse("broadcasts:new"), active == "new"),
    ]


def _broadcast(request: OrgRequest, pk: int) -> Broadcast:
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
        n = len(broadcast.audience_external_ids)
        parts.append(f"{n} listed contact{'s' if n != 1 else ''}")
    if not parts:
        return "All contacts"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def text_check_context(text: str, organization: Organization) -> dict[str, Any]:
    check = text_check(text)
    forcing: dict[str, list[int]] = {}
    for f in check.forcing:
        forcing.setdefault(f.char, []).append(f.position + 1)
    runs: list[tuple[str, bool]] = []
    for ch in text:
        bad = ch in forcing
        if runs and runs[-1][1] == bad:
            runs[-1] = (runs[-1][0] + ch, bad)
        else:
            runs.append((ch, bad))
    return {
        "check": check,
        "limit": organization.segment_limit,
        "over_limit": check.segments > organization.segment_limit,
        "forcing": [
            {"char": c, "codepoint": f"U+{ord(c):04X}", "positions": p[:5], "more": len(p) > 5}
            for c, p in forcing.items()
        ],
        "runs": runs,
    }


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


@sending_page
def broadcast_new(request: OrgRequest) -> HttpResponse:
    org = request.organization
    schools = selectors.organization_schools(org)
    form = BroadcastForm(request.POST or None, organization=org, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            broadcast = services.broadcast_create(
                organization=org,
                name=data["name"],
                text=data["text"],
                created_by=request.user,
                emergency=data["emergency"],
                **form.audience_filters(),
            )
            if request.POST.get("action") != "draft":
                services.broadcast_send(broadcast=broadcast, at=data["send_at"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if broadcast.status == BroadcastStatus.DRAFT:
                messages.success(request, f"Saved “{broadcast.name}” as a draft.")
            elif data["send_at"]:
                when = timezone.localtime(data["send_at"]).strftime("%b %-d, %Y at %-I:%M %p")
                messages.success(request, f"“{broadcast.name}” is scheduled for {when}.")
            else:
                messages.success(request, f"“{broadcast.name}” is on its way.")
            return redirect("broadcasts:detail", pk=broadcast.pk)
    context = {
        "form": form,
        "subtabs": subtabs("new"),
        "tables": client_tables(),
        "segment_limit": org.segment_limit,
        "timezone_name": org.timezone,
        **text_check_context(form.data.get("text", ""), org),
    }
    return render(request, "messaging/compose.html", context)


@sending_page
@require_POST
def text_check_partial(request: OrgRequest) -> HttpResponse:
    """The server's word on the text (the page's own counter is only a preview of it)."""
    context = text_check_context(request.POST.get("text", ""), request.organization)
    return render(request, "messaging/_text_check.html", context)


@sending_page
@require_POST
def audience_partial(request: OrgRequest) -> HttpResponse:
    """Live recipient count. Reads the raw form: a half-filled form still gets its count."""
    org = request.organization
    kind = request.POST.get("audience", "all")
    roles = [r for r in request.POST.getlist("roles") if r in ContactRole.values]
    schools = request.POST.getlist("schools")
    ids = services.parse_external_ids(request.POST.get("external_ids", ""))
    preview = {"contacts": 0, "numbers": 0}
    missing: list[str] = []
    if kind == "all":
        preview = selectors.audience_preview(organization=org)
    elif kind == "filter" and (roles or schools):
        preview = selectors.audience_preview(organization=org, roles=roles, schools=schools)
    elif kind == "list" and ids:
        preview = selectors.audience_preview(organization=org, external_ids=ids)
        missing = selectors.external_ids_missing(organization=org, external_ids=ids)
    context = {"preview": preview, "missing": missing[:20], "missing_count": len(missing)}
    return render(request, "messaging/_audience_count.html", context)


def detail_context(broadcast: Broadcast) -> dict[str, Any]:
    counts = selectors.broadcast_counts(broadcast)
    reasons = [(code, n) for code, n in counts["by_reason"].items() if n]
    return {
        "broadcast": broadcast,
        "counts": counts,
        "results": [
            (value, label, counts["by_result"][label]) for value, label in DeliveryResult.choices
        ],
        "reasons": [(code, n, Reason(code).label) for code, n in reasons],
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
    broadcast = _broadcast(request, pk)
    context = {
        **detail_context(broadcast),
        "check": text_check(broadcast.text),
        "audience": audience_description(broadcast),
        "schedule_form": ScheduleForm(),
        "cancelable": broadcast.status in services.CANCELABLE,
        "subtabs": subtabs("list"),
    }
    return render(request, "messaging/detail.html", context)


@sending_page
def progress_partial(request: OrgRequest, pk: int) -> HttpResponse:
    return render(request, "messaging/_progress.html", detail_context(_broadcast(request, pk)))


@sending_page
@require_POST
def broadcast_send(request: OrgRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        for field in form.errors:
            for error in form.errors[field]:
                messages.error(request, str(error))
        return redirect("broadcasts:detail", pk=pk)
    try:
        services.broadcast_send(broadcast=broadcast, at=form.cleaned_data["send_at"])
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
    broadcast = _broadcast(request, pk)
    try:
        services.broadcast_cancel(broadcast=broadcast)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"“{broadcast.name}” is canceled: nothing more will be sent.")
    return redirect("broadcasts:detail", pk=pk)
