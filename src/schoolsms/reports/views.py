"""The Reports tab's pages and downloads; reading happens in selectors, writing files in exports."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from schoolsms.accounts.access import OrgRequest, org_required
from schoolsms.consent.models import ConsentStatus
from schoolsms.inputs import DB_INT_MAX
from schoolsms.messaging.models import FAILED_REASONS, INELIGIBLE_REASONS, DeliveryResult
from schoolsms.phones import InvalidPhoneNumber
from schoolsms.reports import legend
from schoolsms.reports.exports import (
    SMS_LOG_HEADER,
    SMS_STATUS_HEADER,
    csv_chunks,
    csv_response,
    download_name,
    sms_log_csv,
    sms_log_records,
    sms_status_records,
    xlsx_response,
)
from schoolsms.reports.keyset import BadCursor
from schoolsms.reports.params import ReportInputError, parse_date, parse_status, sms_log_filter
from schoolsms.reports.selectors import (
    SmsLogFilter,
    broadcasts_for_org,
    sms_log_page,
    sms_log_summary,
    summary_groups,
)
from schoolsms.reports.sms_status import (
    UnknownNumber,
    cannot_take_sms_total,
    sms_status_lookup,
    sms_status_page,
    sms_status_totals,
)

FLYER_URL = "/reminders/flyer.pdf"


def _subtabs() -> list[tuple[str, str, bool]]:
    return [("Reports", reverse("reports:index"), True)]


@org_required()
def index(request: OrgRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"subtabs": _subtabs()})


# The page's own names for its inputs, so an error names the field a person sees.
PAGE_NAMES = {"broadcast": "Broadcasts", "from": "From", "to": "To", "result": "Result"}
PAGE_NAMES |= {"reason": "Reason", "sort": "Sort"}


def _log_filter(request: OrgRequest, names: dict[str, str] | None = None) -> SmsLogFilter:
    q = request.GET
    return sms_log_filter(
        request.organization,
        broadcasts=q.getlist("broadcast"),
        date_from=q.get("from"),
        date_to=q.get("to"),
        results=q.getlist("result"),
        reasons=q.getlist("reason"),
        search=q.get("q", ""),
        sort=q.get("sort"),
        names=names,
    )


def _typed(request: OrgRequest) -> dict[str, Any]:
    """What the person chose, as typed: the form shows it again, even when it is wrong, and
    marks the dates to fix (`bad`: "from", "to")."""
    q = request.GET
    bad = set()
    dates = {}
    for key in ("from", "to"):
        try:
            dates[key] = parse_date(key, q.get(key))
        except ReportInputError:
            bad.add(key)
    if not bad and dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        bad = {"from", "to"}
    return {
        "from": q.get("from", ""),
        "to": q.get("to", ""),
        "broadcasts": q.getlist("broadcast"),
        "results": q.getlist("result"),
        "reasons": q.getlist("reason"),
        "search": q.get("q", ""),
        "bad": bad,
    }


def _columns(f: SmsLogFilter) -> list[dict[str, Any]]:
    """Table headers; the sortable ones link to their order (a second click reverses it)."""
    current = ("-" if f.descending else "") + f.sort
    headers = [
        ("Date and time", "date"),
        ("Broadcast", "broadcast"),
        ("Contact", None),
        ("Phone", "phone"),
        ("Language", None),
        ("Delivery stage", None),
        ("Delivery result", "result"),
        ("Reason", None),
        ("Carrier error code", None),
        ("Delivered", "delivered"),
    ]
    columns = []
    for label, key in headers:
        column: dict[str, Any] = {"label": label, "key": key}
        if key:
            column["active"] = f.sort == key
            column["descending"] = f.sort == key and f.descending
            column["next"] = key if current == f"-{key}" else f"-{key}"
        columns.append(column)
    return columns


def _log_chart(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """A stacked bar per result; the undelivered bars are split by reason."""
    labels = [g["label"] for g in groups]
    datasets = [
        {
            "label": "Messages",
            "data": [0 if g["reasons"] else g["count"] for g in groups],
        }
    ]
    for i, g in enumerate(groups):
        for _code, label, n in g["reasons"]:
            data = [0] * len(groups)
            data[i] = n
            datasets.append({"label": label, "data": data})
    return {"labels": labels, "datasets": datasets}


def _summary_context(f: SmsLogFilter) -> dict[str, Any]:
    summary = sms_log_summary(f)
    groups = summary_groups(summary)
    return {"summary": summary, "groups": groups, "chart": _log_chart(groups)}


@org_required()
def sms_log_summary_part(request: OrgRequest) -> HttpResponse:
    """The summary section alone, for pages after the first (loaded by htmx)."""
    try:
        f = _log_filter(request)
    except ReportInputError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    return render(request, "reports/_sms_log_summary.html", _summary_context(f))


@org_required()
def sms_log(request: OrgRequest) -> HttpResponse:
    org = request.organization
    context: dict[str, Any] = {
        "subtabs": _subtabs(),
        "broadcasts": broadcasts_for_org(org)[:500],
        "results": DeliveryResult.choices,
        "reason_groups": [
            (result.label, [(r.value, r.label) for r in reasons])
            for result, reasons in (
                (DeliveryResult.INELIGIBLE_TO_SEND, INELIGIBLE_REASONS),
                (DeliveryResult.FAILED_TO_SEND, FAILED_REASONS),
            )
        ],
        "legend_results": legend.RESULTS,
        "legend_reasons": legend.reasons_grouped(),
        "tz": org.timezone,
    }
    try:
        f = _log_filter(request, PAGE_NAMES)
        page = sms_log_page(f, after=request.GET.get("after"), before=request.GET.get("before"))
    except (ReportInputError, BadCursor) as exc:
        context["error"] = str(exc)
        context["sel"] = _typed(request)
        return render(request, "reports/sms_log.html", context, status=400)
    selection = request.GET.copy()  # the filters without the page cursor
    selection.pop("after", None)
    selection.pop("before", None)
    context.update(f=f, page=page, columns=_columns(f), query=selection.urlencode())
    context["sel"] = {
        "from": f.date_from.isoformat(),
        "to": f.date_to.isoformat(),
        "broadcasts": [str(b) for b in f.broadcast_ids],
        "results": f.results,
        "reasons": f.reasons,
        "search": f.search,
        "bad": set(),
    }
    if request.GET.get("after") or request.GET.get("before"):
        # Paging through rows must stay fast; the totals do not change with the page.
        context["summary_url"] = f"{reverse('reports:sms-log-summary')}?{selection.urlencode()}"
    else:
        context.update(_summary_context(f))
    return render(request, "reports/sms_log.html", context)


@org_required()
def sms_log_export(request: OrgRequest, fmt: str) -> HttpResponseBase:
    org = request.organization
    try:
        f = _log_filter(request)
    except ReportInputError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    name = download_name("sms-log", org.slug, fmt)
    if fmt == "xlsx":
        return xlsx_response(SMS_LOG_HEADER, sms_log_records(f), sheet="SMS Log", filename=name)
    return csv_response(sms_log_csv(f), name)


def _status_context(request: OrgRequest) -> dict[str, Any]:
    org = request.organization
    totals = sms_status_totals(org)
    return {
        "subtabs": _subtabs(),
        "legend_statuses": legend.STATUSES,
        "totals": [(value, label, totals[label]) for value, label in ConsentStatus.choices],
        "total_pairs": sum(totals.values()),
        "cannot_take_sms": cannot_take_sms_total(org),
        "chart": {"labels": list(totals), "counts": list(totals.values())},
        "flyer_url": FLYER_URL,
        "can_send": request.membership.can_send,
        "tz": org.timezone,
    }


@org_required()
def sms_status(request: OrgRequest) -> HttpResponse:
    org = request.organization
    context = _status_context(request)
    number = request.GET.get("number", "").strip()
    status = 200
    if number:
        context["number"] = number
        try:
            context["found"] = sms_status_lookup(org, number)
        except (InvalidPhoneNumber, UnknownNumber) as exc:
            context["lookup_error"] = str(exc)
            status = 404 if isinstance(exc, UnknownNumber) else 400
    return render(request, "reports/sms_status.html", context, status=status)


@org_required()
def sms_status_all(request: OrgRequest) -> HttpResponse:
    org = request.organization
    context = _status_context(request)
    after_text = request.GET.get("after", "")
    try:
        status = parse_status("status", request.GET.get("status"))
        if after_text and not (after_text.isdigit() and int(after_text) <= DB_INT_MAX):
            raise ReportInputError(f"after {after_text!r} is not a page cursor")
    except ReportInputError as exc:
        context["error"] = str(exc)
        return render(request, "reports/sms_status_all.html", context, status=400)
    rows, next_after = sms_status_page(
        org, status=status, after_id=int(after_text) if after_text else None
    )
    context.update(
        rows=rows,
        next_after=next_after,
        status=status,
        status_label=dict(ConsentStatus.choices).get(status or "", "All statuses"),
        statuses=ConsentStatus.choices,
        is_first_page=not after_text,
    )
    return render(request, "reports/sms_status_all.html", context)


@org_required()
def sms_status_export(request: OrgRequest, fmt: str) -> HttpResponseBase:
    org = request.organization
    try:
        status = parse_status("status", request.GET.get("status"))
    except ReportInputError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    name = download_name("sms-status", org.slug, fmt)
    records = sms_status_records(org, status=status)
    if fmt == "xlsx":
        return xlsx_response(SMS_STATUS_HEADER, records, sheet="SMS Status", filename=name)
    return csv_response(csv_chunks(SMS_STATUS_HEADER, records), name)
