"""API: who would get a reminder, start a reminder run, and read runs with each email's outcome."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from schoolsms.accounts.access import ADMIN, UserRequest
from schoolsms.accounts.api import api_membership
from schoolsms.apiutil import DbId
from schoolsms.reminders import selectors
from schoolsms.reminders.models import ReminderRun, RunSource
from schoolsms.reminders.services import reminder_run_create
from schoolsms.reminders.tasks import reminder_run_enqueue

router = Router(tags=["reminders"])


class RecipientOut(Schema):
    contact_id: int
    name: str
    email: str
    language: str
    numbers: list[str]  # masked
    skip_reason: str


class PlanOut(Schema):
    to_send: int
    skipped: dict[str, int]
    recipients: list[RecipientOut]


class EmailOut(Schema):
    contact_id: int | None
    address: str
    language: str
    numbers: list[str]
    outcome: str
    skip_reason: str
    permanent: bool
    smtp_error: str
    sent_at: dt.datetime | None


class RunOut(Schema):
    id: int
    status: str
    force: bool
    source: str
    started_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    to_send: int
    sent: int
    failed: int
    skipped: int
    error: str


class RunDetailOut(RunOut):
    emails: list[EmailOut]


class RunIn(Schema):
    force: bool = False


def _run(run: ReminderRun) -> RunOut:
    return RunOut(
        id=run.pk,
        status=run.status,
        force=run.force,
        source=run.source,
        started_by=run.started_by.email if run.started_by else None,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        to_send=run.to_send_count,
        sent=run.sent_count,
        failed=run.failed_count,
        skipped=run.skipped_count,
        error=run.error,
    )


@router.get("/recipients", response=PlanOut, summary="Who a reminder sent now would reach")
def recipients(request: UserRequest, org: str | None = None, force: bool = False) -> PlanOut:
    organization = api_membership(request, org, ADMIN).organization
    plan = selectors.reminder_plan(organization=organization, force=force)
    return PlanOut(
        to_send=len(plan.to_send),
        skipped=plan.skipped_by_reason(),
        recipients=[
            RecipientOut(
                contact_id=r.contact.pk,
                name=r.contact.name,
                email=r.address,
                language=r.language,
                numbers=r.masked_phones,
                skip_reason=r.skip_reason,
            )
            for r in [*plan.to_send, *plan.skipped]
        ],
    )


@router.post("/runs", response={202: RunOut}, summary="Send the reminder (in the background)")
def run_start(request: UserRequest, payload: RunIn, org: str | None = None) -> Status[RunOut]:
    organization = api_membership(request, org, ADMIN).organization
    try:
        with transaction.atomic():
            run = reminder_run_create(
                organization=organization,
                started_by=request.user,
                force=payload.force,
                source=RunSource.API,
            )
            reminder_run_enqueue(run=run)
    except ValidationError as exc:
        raise HttpError(409, exc.messages[0]) from None
    return Status(202, _run(run))


@router.get("/runs", response=list[RunOut], summary="Recent reminder runs, newest first")
def runs_list(request: UserRequest, org: str | None = None) -> list[RunOut]:
    organization = api_membership(request, org, ADMIN).organization
    return [_run(r) for r in selectors.runs_for_organization(organization=organization)]


@router.get("/runs/{run_id}", response=RunDetailOut, summary="A run and each email's outcome")
def run_detail(request: UserRequest, run_id: DbId, org: str | None = None) -> RunDetailOut:
    organization = api_membership(request, org, ADMIN).organization
    run = selectors.run_get(organization=organization, run_id=run_id)
    if run is None:
        raise HttpError(404, f"no reminder run {run_id}")
    emails = [
        EmailOut(
            contact_id=e.contact_id,
            address=e.address,
            language=e.language,
            numbers=e.phone_list,
            outcome=e.outcome,
            skip_reason=e.skip_reason,
            permanent=e.permanent,
            smtp_error=e.smtp_error,
            sent_at=e.sent_at,
        )
        for e in selectors.run_emails(run=run)
    ]
    return RunDetailOut(**_run(run).dict(), emails=emails)
