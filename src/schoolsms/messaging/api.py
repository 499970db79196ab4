"""API under /api/v1/broadcasts: create, send, cancel, show and list the caller's broadcasts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from schoolsms.accounts.access import SEND, UserRequest
from schoolsms.accounts.api import api_membership, api_memberships
from schoolsms.apiutil import DbId, Pagination
from schoolsms.messaging import selectors, services
from schoolsms.messaging.models import Broadcast
from schoolsms.messaging.text import text_check

router = Router(tags=["broadcasts"])


class BroadcastIn(Schema):
    org: str | None = Field(None, description="organization slug; optional if you have one")
    name: str
    text: str
    roles: list[str] = Field(default_factory=list, description="guardian, staff, student")
    schools: list[str] = Field(default_factory=list)
    external_ids: list[str] = Field(default_factory=list)
    emergency: bool = False


class SendIn(Schema):
    at: dt.datetime | None = Field(None, description="ISO date-time with offset; empty: now")


class CountsOut(Schema):
    total: int
    by_result: dict[str, int]
    by_reason: dict[str, int]


class BroadcastOut(Schema):
    id: int
    org: str
    name: str
    text: str
    encoding: str
    segments: int
    status: str
    emergency: bool
    roles: list[str]
    schools: list[str]
    external_ids: list[str]
    created_by: str | None
    created_at: dt.datetime
    scheduled_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    completed_at: dt.datetime | None
    canceled_at: dt.datetime | None

    @staticmethod
    def resolve_org(obj: Broadcast) -> str:
        return obj.organization.slug

    @staticmethod
    def resolve_encoding(obj: Broadcast) -> str:
        return text_check(obj.text).encoding

    @staticmethod
    def resolve_segments(obj: Broadcast) -> int:
        return text_check(obj.text).segments

    @staticmethod
    def resolve_roles(obj: Broadcast) -> list[str]:
        return list(obj.audience_roles)

    @staticmethod
    def resolve_schools(obj: Broadcast) -> list[str]:
        return list(obj.audience_schools)

    @staticmethod
    def resolve_external_ids(obj: Broadcast) -> list[str]:
        return list(obj.audience_external_ids)

    @staticmethod
    def resolve_created_by(obj: Broadcast) -> str | None:
        return obj.created_by.email if obj.created_by else None


class BroadcastDetailOut(BroadcastOut):
    counts: CountsOut

    @staticmethod
    def resolve_counts(obj: Broadcast) -> dict[str, Any]:
        return selectors.broadcast_counts(obj)


class ErrorOut(Schema):
    detail: str


ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _http_error(exc: ValidationError) -> HttpError:
    status = 409 if getattr(exc, "code", None) == "state" else 400
    return HttpError(status, "; ".join(exc.messages))


def _get(request: UserRequest, broadcast_id: DbId, *, write: bool) -> Broadcast:
    """A broadcast of one of the caller's organizations; another organization's is a 404."""
    memberships = api_memberships(request)
    broadcast = (
        Broadcast.objects.select_related("organization", "created_by")
        .filter(
            pk=broadcast_id,
            organization_id__in=memberships.values("organization_id"),
        )
        .first()
    )
    if broadcast is None:
        raise HttpError(404, f"no broadcast {broadcast_id}")
    if write:
        role = (
            memberships.filter(organization=broadcast.organization)
            .values_list("role", flat=True)
            .first()
        )
        if role not in SEND:
            raise HttpError(403, f"the {role} role cannot change broadcasts")
    return broadcast


@router.get("/", response=list[BroadcastOut], summary="List broadcasts, newest first")
@paginate(Pagination)
def broadcasts_list(request: UserRequest, org: str | None = None) -> QuerySet[Broadcast]:
    membership = api_membership(request, org)
    return selectors.broadcasts_for_org(membership.organization).select_related("organization")


@router.post(
    "/",
    response={201: BroadcastDetailOut, **ERRORS},
    summary="Create a draft broadcast (checks its text and audience)",
)
def broadcasts_create(request: UserRequest, payload: BroadcastIn) -> Status[Broadcast]:
    membership = api_membership(request, payload.org, SEND)
    try:
        broadcast = services.broadcast_create(
            organization=membership.organization,
            name=payload.name,
            text=payload.text,
            created_by=request.user,
            roles=payload.roles,
            schools=payload.schools,
            external_ids=payload.external_ids,
            emergency=payload.emergency,
        )
    except ValidationError as exc:
        raise _http_error(exc) from None
    return Status(201, broadcast)


@router.get("/{broadcast_id}", response={200: BroadcastDetailOut, **ERRORS}, summary="Show one")
def broadcasts_show(request: UserRequest, broadcast_id: DbId) -> Broadcast:
    return _get(request, broadcast_id, write=False)


@router.post(
    "/{broadcast_id}/send",
    response={200: BroadcastDetailOut, **ERRORS},
    summary="Send a draft now, or schedule it with `at`",
)
def broadcasts_send(
    request: UserRequest, broadcast_id: DbId, payload: SendIn | None = None
) -> Broadcast:
    broadcast = _get(request, broadcast_id, write=True)
    at = payload.at if payload else None
    if at is not None and at.tzinfo is None:
        raise HttpError(400, "at must carry a UTC offset, like 2026-12-01T07:30:00-05:00")
    try:
        broadcast = services.broadcast_send(broadcast=broadcast, at=at)
    except ValidationError as exc:
        raise _http_error(exc) from None
    return broadcast


@router.post(
    "/{broadcast_id}/cancel",
    response={200: BroadcastDetailOut, **ERRORS},
    summary="Cancel a broadcast that is not finished",
)
def broadcasts_cancel(request: UserRequest, broadcast_id: DbId) -> Broadcast:
    broadcast = _get(request, broadcast_id, write=True)
    try:
        broadcast = services.broadcast_cancel(broadcast=broadcast)
    except ValidationError as exc:
        raise _http_error(exc) from None
    return broadcast
