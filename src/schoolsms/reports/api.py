"""API under /api/v1/reports: the SMS Log and SMS Status reports as JSON, CSV or XLSX."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http.response import HttpResponseBase
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from schoolsms.accounts.access import UserRequest
from schoolsms.accounts.api import api_membership
from schoolsms.accounts.models import Organization
from schoolsms.apiutil import DbId
from schoolsms.messaging.models import Message
from schoolsms.phones import InvalidPhoneNumber
from schoolsms.reports.exports import (
    SMS_LOG_HEADER,
    SMS_STATUS_HEADER,
    LocalTime,
    csv_chunks,
    csv_response,
    download_name,
    sms_log_csv,
    sms_log_records,
    sms_status_records,
    xlsx_response,
)
from schoolsms.reports.keyset import BadCursor
from schoolsms.reports.params import ReportInputError, parse_status, sms_log_filter
from schoolsms.reports.selectors import sms_log_page, sms_log_summary
from schoolsms.reports.sms_status import (
    UnknownNumber,
    lookup_as_json,
    sms_status_lookup,
    sms_status_page,
    sms_status_totals,
)

router = Router(tags=["reports"])

Format = Literal["json", "csv", "xlsx"]


class SmsLogSummary(Schema):
    total: int
    by_result: dict[str, int] = Field(description="every delivery result label, zeros included")
    by_reason: dict[str, int] = Field(description="reason code: count, for reasons that occur")


class SmsLogRow(Schema):
    id: int
    date: dt.datetime
    broadcast_id: int
    broadcast_name: str
    contact_external_id: str
    contact_name: str
    phone: str
    delivery_stage: str
    delivery_result: str
    reason_code: str
    reason: str
    carrier_error_code: str
    delivered_at: dt.datetime | None


class SmsLogPage(Schema):
    summary: SmsLogSummary | None = Field(
        description="totals of the whole selection, on the first page only (cursor absent)"
    )
    rows: list[SmsLogRow]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class StatusRow(Schema):
    contact_external_id: str
    contact_name: str
    phone: str
    sms_status: str
    status_changed_at: dt.datetime | None
    blocked: bool


class StatusPage(Schema):
    rows: list[StatusRow]
    next_cursor: int | None


class LookupOut(Schema):
    phone: str
    sms_status: str
    status_changed_at: str | None
    blocked: bool
    contacts: list[dict[str, str]]
    keyword_history: list[dict[str, Any]]
    invitations: list[dict[str, Any]]
    history: list[dict[str, Any]]


class SmsLogQuery(Schema):
    org: str | None = Field(None, description="organization slug; optional if you have one")
    broadcast: list[str] = Field(default_factory=list, description="broadcast ids; none: all")
    date_from: str | None = Field(None, alias="from", description="YYYY-MM-DD, org time zone")
    date_to: str | None = Field(None, alias="to", description="YYYY-MM-DD, inclusive")
    result: list[str] = Field(default_factory=list, description='labels, e.g. "Failed to Send"')
    reason: list[str] = Field(default_factory=list, description="reason codes")
    search: str = Field("", description="name, external id or number")
    sort: str | None = Field(None, description="date, broadcast, phone, result, delivered; -x")


def _org(request: UserRequest, slug: str | None) -> Organization:
    return api_membership(request, slug).organization


def _filter(org: Organization, q: SmsLogQuery) -> Any:
    try:
        return sms_log_filter(
            org,
            broadcasts=q.broadcast,
            date_from=q.date_from,
            date_to=q.date_to,
            results=q.result,
            reasons=q.reason,
            search=q.search,
            sort=q.sort,
        )
    except ReportInputError as exc:
        raise HttpError(400, str(exc)) from None


def _row(m: Message, local: LocalTime) -> dict[str, Any]:
    return {
        "id": m.id,
        "date": local(m.created_at),
        "broadcast_id": m.broadcast_id,
        "broadcast_name": m.broadcast.name,
        "contact_external_id": m.contact.external_id if m.contact else "",
        "contact_name": m.contact.name if m.contact else "",
        "phone": m.phone or "",
        "delivery_stage": m.delivery_stage,
        "delivery_result": m.get_result_display(),
        "reason_code": m.reason,
        "reason": m.get_reason_display() if m.reason else "",
        "carrier_error_code": m.carrier_code,
        "delivered_at": local(m.delivered_at),
    }


def _file(fmt: str, header: list[str], records: Any, stem: str, org: Organization) -> Any:
    name = download_name(stem, org.slug, fmt)
    if fmt == "xlsx":
        sheet = "SMS Log" if stem == "sms-log" else "SMS Status"
        return xlsx_response(header, records, sheet=sheet, filename=name)
    return csv_response(csv_chunks(header, records), name)


@router.get(
    "/sms-log",
    response=SmsLogPage,
    summary="SMS Log: totals and one page of rows (format=json), or every row as CSV/XLSX",
)
def sms_log(
    request: UserRequest,
    q: Query[SmsLogQuery],
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
    format: Format = "json",
) -> Any:
    org = _org(request, q.org)
    f = _filter(org, q)
    if format == "csv":
        return csv_response(sms_log_csv(f), download_name("sms-log", org.slug, "csv"))
    if format == "xlsx":
        return _file(format, SMS_LOG_HEADER, sms_log_records(f), "sms-log", org)
    try:
        page = sms_log_page(f, after=cursor, size=limit)
    except BadCursor as exc:
        raise HttpError(400, str(exc)) from None
    local = LocalTime(org)
    return {
        # Totals scan the whole selection: once, not again for every page.
        "summary": sms_log_summary(f) if cursor is None else None,
        "rows": [_row(m, local) for m in page.rows],
        "next_cursor": page.next_cursor,
    }


@router.get("/sms-log/summary", response=SmsLogSummary, summary="SMS Log totals only")
def sms_log_totals(request: UserRequest, q: Query[SmsLogQuery]) -> Any:
    org = _org(request, q.org)
    return sms_log_summary(_filter(org, q))


@router.get(
    "/sms-status/totals",
    response=dict[str, int],
    summary="Contact numbers per SMS status (a contact's two numbers count twice)",
)
def sms_status_totals_view(request: UserRequest, org: str | None = None) -> Any:
    return sms_status_totals(_org(request, org))


@router.get(
    "/sms-status/lookup",
    response=LookupOut,
    summary="One number, typed in any common format: status, contacts, block, history",
)
def sms_status_lookup_view(request: UserRequest, number: str, org: str | None = None) -> Any:
    organization = _org(request, org)
    try:
        return lookup_as_json(sms_status_lookup(organization, number))
    except InvalidPhoneNumber as exc:
        raise HttpError(400, f"number: {exc}") from None
    except UnknownNumber as exc:
        raise HttpError(404, str(exc)) from None


@router.get(
    "/sms-status",
    response=StatusPage,
    summary="Every contact number with its SMS status: a page (json) or all (csv/xlsx)",
)
def sms_status_all(
    request: UserRequest,
    org: str | None = None,
    status: str | None = Query(None, description='"Pending Opt-In", "Opted In" or "Opted Out"'),
    cursor: DbId | None = None,
    limit: int = Query(50, ge=1, le=1000),
    format: Format = "json",
) -> HttpResponseBase | dict[str, Any]:
    organization = _org(request, org)
    try:
        wanted = parse_status("status", status)
    except ReportInputError as exc:
        raise HttpError(400, str(exc)) from None
    if format != "json":
        records = sms_status_records(organization, status=wanted)
        return _file(format, SMS_STATUS_HEADER, records, "sms-status", organization)  # type: ignore[no-any-return]
    rows, next_cursor = sms_status_page(organization, status=wanted, after_id=cursor, size=limit)
    local = LocalTime(organization)
    return {
        "rows": [
            {
                "contact_external_id": r.contact_external_id,
                "contact_name": r.contact_name,
                "phone": r.phone,
                "sms_status": r.sms_status,
                "status_changed_at": local(r.status_changed_at),
                "blocked": r.blocked,
            }
            for r in rows
        ],
        "next_cursor": next_cursor,
    }
