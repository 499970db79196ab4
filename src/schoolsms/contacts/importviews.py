"""Pages for imports: upload (contacts, consent, OneRoster), a job's live progress and result,
confirming a held roster, and the roster sync settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import ADMIN, OrgRequest, org_required
from schoolsms.contacts import selectors
from schoolsms.contacts.forms import ContactImportForm, RosterSettingsForm
from schoolsms.contacts.importreport import MAX_SHOWN
from schoolsms.contacts.jobs import import_job_confirm, import_job_discard, import_job_upload
from schoolsms.contacts.models import ImportJob, ImportKind
from schoolsms.contacts.oneroster.services import roster_settings_get
from schoolsms.contacts.sync import RosterSettingsError, roster_settings_update
from schoolsms.contacts.tasks import import_job_enqueue
from schoolsms.contacts.uploads import (
    LimitedUploadHandler,
    declared_too_large,
    limit_uploads,
    upload_too_large_message,
)
from schoolsms.contacts.views import contacts_subtabs


def _import_page(
    request: OrgRequest, form: ContactImportForm, *, refused: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "refused": refused,
        "max_upload_mb": settings.SCHOOLSMS_MAX_UPLOAD_MB,
        "jobs": selectors.import_jobs_recent(organization=request.organization),
        "subtabs": contacts_subtabs(request, "import"),
    }
    return render(request, "contacts/import.html", context, status=status)


@csrf_exempt  # checked below, once the upload limit is in front of the body's parser
@org_required(ADMIN)
def contact_import(request: OrgRequest) -> HttpResponse:
    handler = None
    if request.method == "POST":
        if declared_too_large(request):
            # Refused on its declared size: the body is never read.
            return _import_page(
                request, ContactImportForm(), refused=upload_too_large_message(), status=413
            )
        handler = limit_uploads(request)
    return _contact_import(request, handler)


@csrf_protect
def _contact_import(request: OrgRequest, handler: LimitedUploadHandler | None) -> HttpResponse:
    if request.method != "POST":
        return _import_page(request, ContactImportForm())
    form = ContactImportForm(request.POST, request.FILES)
    if handler is not None and handler.exceeded:
        return _import_page(
            request, ContactImportForm(), refused=upload_too_large_message(), status=413
        )
    if not form.is_valid():
        return _import_page(request, form)
    kind = ImportKind.CONSENT if form.cleaned_data["kind"] == "consent" else ImportKind.CONTACTS
    job = import_job_upload(
        organization=request.organization,
        kind=kind,
        upload=form.cleaned_data["file"],
        created_by=request.user,
    )
    import_job_enqueue(job=job)
    return redirect("contacts:import-job", pk=job.pk)


def _job_or_404(request: OrgRequest, pk: int) -> ImportJob:
    job = selectors.import_job_get(organization=request.organization, pk=pk)
    if job is None:
        raise Http404("No such import in this organization.")
    return job


def _job_context(job: ImportJob) -> dict[str, Any]:
    return {
        "job": job,
        "more_errors": max(0, job.error_count - len(job.errors)),
        "max_shown": MAX_SHOWN,
    }


@org_required(ADMIN)
def import_job_page(request: OrgRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    context = {**_job_context(job), "subtabs": contacts_subtabs(request, "import")}
    return render(request, "contacts/import_job.html", context)


@org_required(ADMIN)
def import_job_progress(request: OrgRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    return render(request, "contacts/_import_job.html", _job_context(job))


@require_POST
@org_required(ADMIN)
def import_job_decide(request: OrgRequest, pk: int) -> HttpResponse:
    """An admin confirms (imports as it is) or discards a roster held for its inactivations."""
    job = _job_or_404(request, pk)
    if request.POST.get("decision") == "confirm":
        if import_job_confirm(job=job):
            import_job_enqueue(job=job)
            messages.success(request, f"{job.filename} will be imported as it is.")
    elif import_job_discard(job=job):
        messages.info(request, f"{job.filename} was discarded; nothing was imported.")
    return redirect("contacts:import-job", pk=job.pk)


@org_required(ADMIN)
def roster_sync_settings(request: OrgRequest) -> HttpResponse:
    org = request.organization
    current = roster_settings_get(organization=org)
    initial = {
        "folder": current.folder,
        "language_column": current.language_column,
        "inactivate_limit_percent": current.inactivate_limit_percent,
    }
    form = RosterSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            roster_settings_update(
                organization=org,
                folder_within=Path(settings.SCHOOLSMS_DROP_ROOT),
                **form.cleaned_data,
            )
        except RosterSettingsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Roster sync settings saved.")
            return redirect(reverse("contacts:sync"))
    context = {
        "form": form,
        "last_sync": selectors.roster_sync_last(organization=org),
        "drop_root": settings.SCHOOLSMS_DROP_ROOT,
        "subtabs": contacts_subtabs(request, "sync"),
    }
    return render(request, "contacts/sync.html", context)
