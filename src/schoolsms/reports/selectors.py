"""Reads for the SMS Log: which message rows a selection covers, their totals, and their pages."""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import (
    FAILED_REASONS,
    INELIGIBLE_REASONS,
    Broadcast,
    DeliveryResult,
    Message,
)
from schoolsms.phones import InvalidPhoneNumber, to_e164
from schoolsms.reports.keyset import Page, SortKey, page_fetch

DEFAULT_DAYS = 30
PAGE_SIZE = 50

# The sortable columns of the SMS Log, by the name used in URLs, the API and the CLI.
SORT_KEYS = {
    "date": SortKey("created_at", is_datetime=True),
    "broadcast": SortKey("broadcast_id"),
    "phone": SortKey("phone", nullable=True),
    "result": SortKey("result"),
    "delivered": SortKey("delivered_at", nullable=True, is_datetime=True),
}

# Columns every listing and export reads, in one query (no per-row lookups).
# An export row: every field an export column is made of (reports.export_rows), and the id.
_EXPORT_PATHS = {
    "r_id": "id",
    "r_created": "created_at",
    "r_broadcast": "broadcast_id",
    "r_broadcast_name": "broadcast__name",
    "r_external_id": "contact__external_id",
    "r_first": "contact__first_name",
    "r_last": "contact__last_name",
    "r_phone": "phone",
    "r_result": "result",
    "r_reason": "reason",
    "r_code": "carrier_code",
    "r_delivered": "delivered_at",
}
EXPORT_FIELDS = tuple(_EXPORT_PATHS)


def _may_be_null(path: str) -> bool:
    model: Any = Message
    for name in path.split("__"):
        found = model._meta.get_field(name)
        if found.null:
            return True
        model = found.related_model
    return False


# Export fields that can be NULL (a message whose contact was deleted has no contact fields).
EXPORT_NULLABLE = frozenset(name for name, path in _EXPORT_PATHS.items() if _may_be_null(path))


def org_today(organization: Organization) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()


def default_range(organization: Organization) -> tuple[dt.date, dt.date]:
    """The last 30 days, today included, in the organization's time zone."""
    today = org_today(organization)
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


@dataclass
class SmsLogFilter:
    """One SMS Log selection. Empty lists mean "all"."""

    organization: Organization
    date_from: dt.date
    date_to: dt.date
    broadcast_ids: list[int] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    search: str = ""
    sort: str = "date"
    descending: bool = True

    @classmethod
    def default(cls, organization: Organization, **kwargs: Any) -> SmsLogFilter:
        start, end = default_range(organization)
        kwargs.setdefault("date_from", start)
        kwargs.setdefault("date_to", end)
        return cls(organization=organization, **kwargs)

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first instant of date_from, first instant after date_to) in the org's zone."""
        tz = zoneinfo.ZoneInfo(self.organization.timezone)
        start = dt.datetime.combine(self.date_from, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end


def broadcasts_for_org(organization: Organization) -> QuerySet[Broadcast]:
    return Broadcast.objects.filter(organization=organization).order_by("-created_at", "-id")


def _search_q(organization: Organization, text: str) -> Q:
    """A name, an external id, or a number in any common format."""
    text = text.strip()
    q = Q(contact__external_id=text)
    with contextlib.suppress(InvalidPhoneNumber):
        q |= Q(phone=to_e164(text, organization.phone_region))
    words = text.split()
    if words:
        name_q = Q()
        for word in words:
            name_q &= Q(contact__first_name__icontains=word) | Q(contact__last_name__icontains=word)
        q |= name_q
    return q


def sms_log_queryset(f: SmsLogFilter) -> QuerySet[Message]:
    """The selection's message rows, always inside the filter's organization."""
    start, end = f.utc_bounds()
    qs = Message.objects.filter(organization=f.organization, created_at__gte=start)
    qs = qs.filter(created_at__lt=end)
    if f.broadcast_ids:
        qs = qs.filter(broadcast_id__in=f.broadcast_ids)
    if f.results:
        qs = qs.filter(result__in=f.results)
    if f.reasons:
        qs = qs.filter(reason__in=f.reasons)
    if f.search.strip():
        qs = qs.filter(_search_q(f.organization, f.search))
    return qs


def sms_log_export_rows(f: SmsLogFilter) -> QuerySet[Message, Any]:
    """The selection as export rows (EXPORT_FIELDS, and r_sort: the sort key), unordered."""
    fields = {name: F(path) for name, path in _EXPORT_PATHS.items()}
    return sms_log_queryset(f).order_by().values(**fields, r_sort=F(SORT_KEYS[f.sort].field))


def empty_summary() -> dict[str, Any]:
    return {
        "total": 0,
        "by_result": {label: 0 for label in DeliveryResult.labels},
        "by_reason": {},
    }


def sms_log_summary(f: SmsLogFilter) -> dict[str, Any]:
    """Totals per result (every label present) and per reason code (only those that occur)."""
    summary = empty_summary()
    counts = (
        sms_log_queryset(f)
        .order_by()
        .values_list("result", "reason")
        .annotate(n=Count("*"))
        .values_list("result", "reason", "n")
    )
    labels = dict(DeliveryResult.choices)
    by_reason: dict[str, int] = {}
    for result, reason, n in counts:
        summary["total"] += n
        summary["by_result"][labels.get(result, result)] += n
        if reason:
            by_reason[reason] = by_reason.get(reason, 0) + n
    # Reasons in the order the legend lists them.
    order = [r.value for r in (*INELIGIBLE_REASONS, *FAILED_REASONS)]
    summary["by_reason"] = {r: by_reason[r] for r in order if r in by_reason}
    summary["by_reason"].update({r: n for r, n in by_reason.items() if r not in order})
    return summary


def summary_groups(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary arranged for pages: each result with its reasons underneath."""
    groups = []
    for value, label in DeliveryResult.choices:
        reasons: list[tuple[str, str, int]] = []
        if value == DeliveryResult.INELIGIBLE_TO_SEND:
            reasons = [
                (r.value, r.label, summary["by_reason"].get(r.value, 0)) for r in INELIGIBLE_REASONS
            ]
        elif value == DeliveryResult.FAILED_TO_SEND:
            reasons = [
                (r.value, r.label, summary["by_reason"].get(r.value, 0)) for r in FAILED_REASONS
            ]
        groups.append(
            {
                "value": value,
                "label": label,
                "count": summary["by_result"][label],
                "reasons": reasons,
            }
        )
    return groups


def sms_log_page(
    f: SmsLogFilter, *, after: str | None = None, before: str | None = None, size: int = PAGE_SIZE
) -> Page:
    qs = sms_log_queryset(f).select_related("broadcast", "contact")
    return page_fetch(
        qs,
        key=SORT_KEYS[f.sort],
        descending=f.descending,
        size=size,
        after=after,
        before=before,
    )
