"""Compose and edit pages of the Broadcasts tab: the form, its live counters (text and who will
get it), a draft's edit and delete, and the confirmation before anything goes out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import OrgRequest
from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import ContactRole
from schoolsms.messaging import selectors, services
from schoolsms.messaging.confirmations import breakdown_display, confirm_send
from schoolsms.messaging.forms import BroadcastForm
from schoolsms.messaging.models import Broadcast, BroadcastStatus
from schoolsms.messaging.text import client_tables, text_check
from schoolsms.messaging.views import broadcast_or_404, sending_page, subtabs
from schoolsms.webutil import confirm_page, is_confirmed, when


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


def _form(request: OrgRequest, initial: dict[str, Any] | None = None) -> BroadcastForm:
    org = request.organization
    return BroadcastForm(
        request.POST or None,
        organization=org,
        schools=selectors.organization_schools(org),
        languages=selectors.organization_languages(org),
        initial=initial,
    )


def _submit(
    request: OrgRequest,
    form: BroadcastForm,
    *,
    back_url: str,
    save: Callable[[dict[str, Any]], Broadcast],
) -> HttpResponse | None:
    """A posted compose form: saved as a draft, or (once confirmed) sent or scheduled; `save`
    writes the draft. None: show the form again (not posted, being edited, or with errors)."""
    editing = request.POST.get("edit") == "1"
    if request.method != "POST" or editing or not form.is_valid():
        return None
    data = form.cleaned_data
    sending = request.POST.get("action") != "draft"
    if sending and not is_confirmed(request):
        breakdown = selectors.audience_breakdown(
            organization=request.organization, **form.audience_filters()
        )
        return confirm_send(
            request, breakdown=breakdown, at=data["send_at"], back_url=back_url, back_posts=True
        )
    try:
        # One transaction: a send that is refused leaves no draft (or draft change) behind.
        with transaction.atomic():
            broadcast = save(data)
            if sending:
                services.broadcast_send(broadcast=broadcast, at=data["send_at"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return None
    if not sending:
        messages.success(request, f"Saved “{broadcast.name}” as a draft.")
    elif data["send_at"]:
        messages.success(request, f"“{broadcast.name}” is scheduled for {when(data['send_at'])}.")
    else:
        messages.success(request, f"“{broadcast.name}” is on its way.")
    return redirect("broadcasts:detail", pk=broadcast.pk)


@sending_page
def broadcast_new(request: OrgRequest) -> HttpResponse:
    form = _form(request)

    def save(data: dict[str, Any]) -> Broadcast:
        return services.broadcast_create(
            organization=request.organization,
            name=data["name"],
            text=data["text"],
            created_by=request.user,  # type: ignore[arg-type]
            emergency=data["emergency"],
            texts=form.texts(),
            **form.audience_filters(),
        )

    done = _submit(request, form, back_url=reverse("broadcasts:new"), save=save)
    return done or _compose(
        request, form, heading="New broadcast", action=reverse("broadcasts:new")
    )


def _draft_initial(broadcast: Broadcast) -> dict[str, Any]:
    kind = "all"
    if broadcast.audience_external_ids:
        kind = "list"
    elif broadcast.audience_roles or broadcast.audience_schools:
        kind = "filter"
    return {
        "name": broadcast.name,
        "text": broadcast.text,
        "audience": kind,
        "roles": broadcast.audience_roles,
        "schools": broadcast.audience_schools,
        "external_ids": "\n".join(broadcast.audience_external_ids),
        "emergency": broadcast.emergency,
        "when": "now",
        **{f"text_{code}": text for code, text in broadcast.texts.items()},
    }


@sending_page
def broadcast_edit(request: OrgRequest, pk: int) -> HttpResponse:
    """A draft, in the compose form: save it again, or send it (after the confirmation)."""
    broadcast = broadcast_or_404(request, pk)
    if broadcast.status != BroadcastStatus.DRAFT:
        messages.error(request, "Only a draft can be edited.")
        return redirect("broadcasts:detail", pk=pk)
    form = _form(request, initial=_draft_initial(broadcast))

    def save(data: dict[str, Any]) -> Broadcast:
        services.broadcast_draft_update(
            broadcast=broadcast,
            name=data["name"],
            text=data["text"],
            emergency=data["emergency"],
            texts=form.texts(),
            **form.audience_filters(),  # type: ignore[arg-type]
        )
        return broadcast

    back_url = reverse("broadcasts:edit", args=[pk])
    return _submit(request, form, back_url=back_url, save=save) or _compose(
        request,
        form,
        heading=f"Edit draft “{broadcast.name}”",
        action=back_url,
        draft=broadcast,
    )


@sending_page
@require_POST
def broadcast_delete(request: OrgRequest, pk: int) -> HttpResponse:
    broadcast = broadcast_or_404(request, pk)
    if not is_confirmed(request):
        return confirm_page(
            request,
            question=f"Delete the draft “{broadcast.name}”?",
            facts=["Nobody has been texted; the draft and its text are deleted for good."],
            confirm_label="Yes, delete the draft",
            back_url=reverse("broadcasts:detail", args=[pk]),
            back_label="No, keep it",
            danger=True,
        )
    try:
        services.broadcast_draft_delete(broadcast=broadcast)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("broadcasts:detail", pk=pk)
    messages.success(request, f"Deleted the draft “{broadcast.name}”.")
    return redirect("broadcasts:list")


def _compose(
    request: OrgRequest, form: BroadcastForm, *, heading: str, action: str, draft: Any = None
) -> HttpResponse:
    org = request.organization
    context = {
        "form": form,
        "heading": heading,
        "form_action": action,
        "draft": draft,
        "subtabs": subtabs("new" if draft is None else "list"),
        "tables": client_tables(),
        "segment_limit": org.segment_limit,
        "timezone_name": org.timezone,
        **text_check_context(form["text"].value() or "", org),
        "language_texts": [
            {
                "code": code,
                "name": name,
                "field": field,
                "check_id": f"text-check-{code}",
                **text_check_context(field.value() or "", org),
            }
            for code, name, field in form.language_fields()
        ],
    }
    return render(request, "messaging/compose.html", context)


@sending_page
@require_POST
def text_check_partial(request: OrgRequest) -> HttpResponse:
    """The server's word on a text (the page's own counter is only a preview of it): the
    English `text`, or the one named in `field` (`text_es`)."""
    field = request.POST.get("field", "text")
    if field != "text" and not (field.startswith("text_") and field[5:].isalpha()):
        field = "text"
    context = text_check_context(request.POST.get(field, ""), request.organization)
    context["check_id"] = "text-check" if field == "text" else f"text-check-{field[5:]}"
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
    breakdown = None
    missing: list[str] = []
    if kind == "all":
        breakdown = selectors.audience_breakdown(organization=org)
    elif kind == "filter" and (roles or schools):
        breakdown = selectors.audience_breakdown(organization=org, roles=roles, schools=schools)
    elif kind == "list" and ids[: services.MAX_EXTERNAL_IDS]:
        breakdown = selectors.audience_breakdown(
            organization=org, external_ids=ids[: services.MAX_EXTERNAL_IDS]
        )
        missing = selectors.external_ids_missing(organization=org, external_ids=ids)
    context = {
        "breakdown": breakdown_display(breakdown) if breakdown else None,
        "missing": missing[:20],
        "missing_count": len(missing),
    }
    return render(request, "messaging/_audience_count.html", context)
