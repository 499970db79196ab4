"""Quiet hours: when a non-emergency text may reach a number, in the number's own time zone."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import phonenumbers
from phonenumbers import timezone as phone_timezone

from schoolsms.accounts.models import Organization

# An area code that straddles a time-zone line maps to two zones; more means no real place.
MAX_ZONES = 2


@functools.lru_cache(maxsize=65536)
def number_time_zones(phone: str) -> tuple[str, ...]:
    """The zones of the number's area code; empty when unknown (the caller falls back)."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(
        z
        for z in phone_timezone.time_zones_for_number(parsed)
        if z != phone_timezone.UNKNOWN_TIMEZONE
    )
    # Toll-free and other non-geographic numbers map to every zone of the country; their
    # "strictest" window would never open, so they take the organization's zone instead.
    return zones if len(zones) <= MAX_ZONES else ()


def _opening_in_zone(
    now: dt.datetime, zone: zoneinfo.ZoneInfo, start: dt.time, end: dt.time
) -> dt.datetime | None:
    """When the quiet window that holds `now` in this zone ends; None if not in one."""
    local = now.astimezone(zone)
    t = local.timetz().replace(tzinfo=None)
    if start > end:  # spans midnight, e.g. 21:00-08:00
        if t >= start:
            day = local.date() + dt.timedelta(days=1)
        elif t < end:
            day = local.date()
        else:
            return None
    elif start <= t < end:  # inside one day, e.g. 12:00-13:00
        day = local.date()
    else:
        return None
    return dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC)


def quiet_until(*, phone: str, organization: Organization, now: dt.datetime) -> dt.datetime | None:
    """None when a non-emergency text may go now; else when the number's quiet hours end.

    A number whose area code spans several zones gets the strictest answer: it waits while
    any of its zones is quiet, until the last of them opens."""
    start, end = organization.quiet_hours_start, organization.quiet_hours_end
    if start is None or end is None:
        return None
    names = number_time_zones(phone) or (organization.timezone,)
    openings = [
        opening
        for name in names
        if (opening := _opening_in_zone(now, zoneinfo.ZoneInfo(name), start, end)) is not None
    ]
    return max(openings) if openings else None
