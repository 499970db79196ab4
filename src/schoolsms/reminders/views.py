"""The Reminders tab: preview, recipient count, send, progress, history; and the flyer download."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from schoolsms.accounts.access import READ, SEND, OrgRequest, org_required
from schoolsms.accounts.models import Organization
from schoolsms.reminders import selectors
from schoolsms.reminders.emails import reminder_content
from schoolsms.reminders.flyer import flyer_filename, flyer_render
from schoolsms.reminders.models import ReminderRun, RunSource, SkipReason
from schoolsms.reminders.services import reminder_run_create
from schoolsms.reminders.tasks import reminder_run_enqueue
from schoolsms.reminders.texts import COPIES, LANGUAGES
from schoolsms.webutil import confirm_page, is_confirmed

SAMPLE_PHONES = ["•••-•••-0100"]
RECIPIENTS_SHOWN = 200


def _org(request: OrgRequest) -> Organization:
    return request.organization


def _language(request: HttpRequest) -> str | None:
    language = request.GET.get("language", "en").strip().lower()
    return language if language in LANGUAGES else None


@require_GET
@org_required(SEND)
def index(request: OrgRequest) -> HttpResponse:
    organization = _org(request)
    plan = selectors.reminder_plan(organization=organization)
    skipped = plan.skipped_by_reason()
    return render(
        request,
        "reminders/index.html",
        {
            "plan": plan,
            # Every reason, none included: the page says who is left out even when nobody is.
            "skipped": [(label, skipped.get(value, 0)) for value, label in SkipReason.choices],
            "skipped_total": len(plan.skipped),
            "left_out": selectors.left_out(organization=organization, plan=plan),
            "recipients": plan.to_send[:RECIPIENTS_SHOWN],
            "recipients_more": max(len(plan.to_send) - RECIPIENTS_SHOWN, 0),
            "languages": [(code, COPIES[code].language_name) for code in LANGUAGES],
            "by_language": _count_by_language(plan.to_send),
            "active": selectors.run_active(organization=organization),
            "runs": selectors.runs_for_organization(organization=organization),
        },
    )


def _count_by_language(recipients: list[selectors.Recipient]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for r in recipients:
        counts[r.language] = counts.get(r.language, 0) + 1
    return [(COPIES[code].language_name, n) for code, n in sorted(counts.items())]


@require_POST
@org_required(SEND)
def send(request: OrgRequest) -> HttpResponse:
    force = request.POST.get("force") == "on"
    plan = selectors.reminder_plan(organization=_org(request), force=force)
    n = len(plan.to_send)
    if n == 0:
        messages.error(request, "Nobody would get a reminder now, so nothing was sent.")
        return redirect("reminders:index")
    if not is_confirmed(request):
        labels = dict(SkipReason.choices)
        skipped = [f"{k} {labels[r].lower()}" for r, k in plan.skipped_by_reason().items() if k]
        facts = [
            "Each gets one email in their language, with the opt-in flyer attached.",
            ("Skipped: " + "; ".join(skipped) + ".") if skipped else "Nobody is skipped.",
        ]
        return confirm_page(
            request,
            question=f"Email {intcomma(n)} contact{pluralize(n)} an opt-in reminder now?",
            facts=facts,
            confirm_label=f"Yes, email {intcomma(n)} contact{pluralize(n)}",
            back_url=reverse("reminders:index"),
        )
    try:
        run = reminder_run_create(
            organization=_org(request),
            started_by=request.user,
            force=force,
            source=RunSource.WEB,
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("reminders:index")
    reminder_run_enqueue(run=run)
    return redirect("reminders:run", pk=run.pk)


def _run_or_404(request: OrgRequest, pk: int) -> ReminderRun:
    run = selectors.run_get(organization=_org(request), run_id=pk)
    if run is None:
        raise Http404("No such reminder run.")
    return run


@require_GET
@org_required(SEND)
def run_detail(request: OrgRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    return render(
        request,
        "reminders/run.html",
        {"run": run, "emails": selectors.run_emails(run=run)},
    )


@require_GET
@org_required(SEND)
def run_progress(request: OrgRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    response = render(request, "reminders/_progress.html", {"run": run})
    if not run.is_active and request.GET.get("from") == "active":
        # The run just ended: reload the page once so the per-email table appears.
        response["HX-Refresh"] = "true"
    return response


@require_GET
@org_required(SEND)
@xframe_options_sameorigin
def email_preview(request: OrgRequest) -> HttpResponse:
    """The email as a contact due a reminder in that language would get it (or a sample)."""
    language = _language(request)
    if language is None:
        return HttpResponseBadRequest(f"language must be one of {', '.join(LANGUAGES)}")
    organization = _org(request)
    sample = selectors.preview_sample(organization=organization, language=language)
    name = sample.contact.name if sample else "Pat Doe"
    phones = sample.masked_phones if sample else SAMPLE_PHONES
    content = reminder_content(
        organization=organization, language=language, name=name, masked_phones=phones
    )
    if request.GET.get("format") == "text":
        body = f"Subject: {content.subject}\n\n{content.text}"
        return HttpResponse(body, content_type="text/plain; charset=utf-8")
    return HttpResponse(content.html)


@require_GET
@org_required(READ)
@xframe_options_sameorigin
def flyer(request: OrgRequest) -> HttpResponse:
    language = _language(request)
    if language is None:
        return HttpResponseBadRequest(
            f"language must be one of {', '.join(LANGUAGES)}", content_type="text/plain"
        )
    organization = _org(request)
    pdf = flyer_render(organization=organization, language=language)
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "inline" if request.GET.get("inline") else "attachment"
    name = flyer_filename(organization=organization, language=language)
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response
