"""The send-time re-check: numbers a STOP, a block or a lost opt-in made ineligible since
dispatch (the rules of messaging.eligibility, asked again for a claimed batch)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from schoolsms.accounts.models import Organization
from schoolsms.messaging.eligibility import ELIGIBLE, numbers_checked


def ineligible_now(
    *, organization: Organization, phones: Iterable[str], invitation: bool = False
) -> dict[str, str]:
    """Numbers a STOP, a block or a lost opt-in made ineligible since dispatch -> reason.

    For an opt-in invitation Pending Opt-In is what makes a number eligible: only a STOP, a
    block or a lost record stop it (one that opted in meanwhile is sent it all the same)."""
    wanted = sorted(set(phones))
    if not wanted:
        return {}
    # Plain SQL: it runs for every claimed batch, and building the ORM's IN lookups of
    # hundreds of numbers cost more than the queries.
    sql, params = numbers_checked(organization=organization, phones=wanted, invitation=invitation)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {phone: reason for phone, reason in cursor.fetchall() if reason != ELIGIBLE}
