"""The send-time re-check: numbers a STOP, a block or a lost opt-in made ineligible since
dispatch."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import BlockedNumber, ConsentRecord, ConsentStatus
from schoolsms.messaging.models import Reason


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
    marks = ", ".join(["%s"] * len(wanted))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT phone FROM {quote(BlockedNumber._meta.db_table)} "
            f"WHERE organization_id = %s AND phone IN ({marks})",
            [organization.pk, *wanted],
        )
        blocked = {phone for (phone,) in cursor.fetchall()}
        cursor.execute(
            f"SELECT phone, status FROM {quote(ConsentRecord._meta.db_table)} "
            f"WHERE sender_id = %s AND phone IN ({marks})",
            [organization.sender_id, *wanted],
        )
        statuses = dict(cursor.fetchall())
    reasons = {}
    for phone in wanted:
        status = statuses.get(phone)
        if phone in blocked:
            reasons[phone] = Reason.BLOCKED.value
        elif status == ConsentStatus.OPTED_OUT:
            reasons[phone] = Reason.OPTED_OUT.value
        elif status == ConsentStatus.PENDING_OPT_IN and not invitation:
            reasons[phone] = Reason.PENDING_OPT_IN.value
        elif status is None:
            reasons[phone] = Reason.NOT_OPTED_IN.value
    return reasons
