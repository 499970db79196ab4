"""Report inputs typed by people (query strings, API parameters, CLI flags) made into selections.

A wrong input raises ReportInputError with a message naming the parameter and what is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentStatus
from schoolsms.inputs import InputError, check_date, check_db_int
from schoolsms.messaging.models import Broadcast, DeliveryResult, Reason
from schoolsms.reports.selectors import SORT_KEYS, SmsLogFilter, default_range


class ReportInputError(ValueError):
    """A bad parameter; the message names it and says what is allowed."""


def _lookup(choices: Sequence[tuple[str, str]], text: str) -> str | None:
    wanted = " ".join(text.split()).casefold()
    for value, label in choices:
        if wanted in (value.casefold(), label.casefold()):
            return value
    return None


def parse_date(param: str, text: str | None) -> dt.date | None:
    if text is None or not text.strip():
        return None
    try:
        return check_date(param, dt.date.fromisoformat(text.strip()))
    except InputError as exc:
        raise ReportInputError(exc.messages[0]) from None
    except ValueError:
        raise ReportInputError(f"{param} {text!r} is not a date (use YYYY-MM-DD)") from None


def parse_results(param: str, texts: Sequence[str]) -> list[str]:
    values = []
    for text in texts:
        if not text.strip():
            continue
        value = _lookup(DeliveryResult.choices, text)
        if value is None:
            allowed = ", ".join(f'"{label}"' for label in DeliveryResult.labels)
            raise ReportInputError(
                f"{param} {text!r} is not a delivery result; use one of {allowed}"
            )
        values.append(value)
    return values


def parse_reasons(param: str, texts: Sequence[str]) -> list[str]:
    values = []
    for text in texts:
        if not text.strip():
            continue
        value = _lookup(Reason.choices, text)
        if value is None:
            allowed = ", ".join(Reason.values)
            raise ReportInputError(f"{param} {text!r} is not a reason code; use one of {allowed}")
        values.append(value)
    return values


def parse_status(param: str, text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    value = _lookup(ConsentStatus.choices, text)
    if value is None:
        allowed = ", ".join(f'"{label}"' for label in ConsentStatus.labels)
        raise ReportInputError(f"{param} {text!r} is not an SMS status; use one of {allowed}")
    return value


def parse_broadcasts(param: str, organization: Organization, texts: Sequence[str]) -> list[int]:
    ids = []
    for text in texts:
        if not str(text).strip():
            continue
        if not str(text).strip().isdigit():
            raise ReportInputError(f"{param} {text!r} is not a broadcast id (a whole number)")
        try:
            ids.append(check_db_int(param, int(text)))
        except InputError as exc:
            raise ReportInputError(exc.messages[0]) from None
    found = set(
        Broadcast.objects.filter(organization=organization, id__in=ids).values_list("id", flat=True)
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise ReportInputError(
            f"{param} {missing[0]} is not a broadcast of {organization.name} ({organization.slug})"
        )
    return sorted(set(ids))


def sms_log_filter(
    organization: Organization,
    *,
    broadcasts: Sequence[str] = (),
    date_from: str | None = None,
    date_to: str | None = None,
    results: Sequence[str] = (),
    reasons: Sequence[str] = (),
    search: str = "",
    sort: str | None = None,
    names: dict[str, str] | None = None,
) -> SmsLogFilter:
    """`names` maps each input to the parameter name the caller shows (e.g. "--from")."""
    n = {
        "broadcast": "broadcast",
        "from": "from",
        "to": "to",
        "result": "result",
        "reason": "reason",
        "sort": "sort",
        **(names or {}),
    }
    start, end = default_range(organization)
    first = parse_date(n["from"], date_from)
    last = parse_date(n["to"], date_to)
    if first is None and last is not None:
        first = last - (end - start)
    first, last = first or start, last or max(end, first or end)
    if first > last:
        raise ReportInputError(f"{n['from']} {first} is after {n['to']} {last}")
    sort_name, descending = "date", True
    if sort:
        sort_name = sort.lstrip("-")
        descending = sort.startswith("-")
        if sort_name not in SORT_KEYS:
            allowed = ", ".join(SORT_KEYS)
            raise ReportInputError(
                f"{n['sort']} {sort!r} is not a column; use one of {allowed} (prefix - to reverse)"
            )
    return SmsLogFilter(
        organization=organization,
        date_from=first,
        date_to=last,
        broadcast_ids=parse_broadcasts(n["broadcast"], organization, broadcasts),
        results=parse_results(n["result"], results),
        reasons=parse_reasons(n["reason"], reasons),
        search=search.strip(),
        sort=sort_name,
        descending=descending,
    )
