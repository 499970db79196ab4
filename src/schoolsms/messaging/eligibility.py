"""The eligibility rules, defined once, in SQL: who may be texted, and else the first rule that
stops them. Fan-out, the send-time re-check and the audience breakdown all use this.

The rules, in order (the first that applies is the row's reason): no_sms_number, blocked,
opted_out, pending_opt_in, not_opted_in, duplicate_number. Block list and consent belong to
the number (consent to the sender's short code, the block list to the organization).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentStatus
from schoolsms.contacts.models import Contact
from schoolsms.messaging.models import Reason

RULES: tuple[str, ...] = (
    Reason.NO_SMS_NUMBER.value,
    Reason.BLOCKED.value,
    Reason.OPTED_OUT.value,
    Reason.PENDING_OPT_IN.value,
    Reason.NOT_OPTED_IN.value,
    Reason.DUPLICATE_NUMBER.value,
)
ELIGIBLE = ""  # the reason of a number no rule stops


def reason_case(
    *, phone: str, blocked: str, consent: str, duplicate: str | None, pending_ok: bool = False
) -> str:
    """An SQL CASE giving the first rule that stops a number, or '' when none does.

    `phone`: the number (NULL when the contact has no SMS number); `blocked`: a condition true
    when the number is on the block list; `consent`: the number's consent status on the sender
    (NULL without a record); `duplicate`: a condition true when an earlier recipient of the
    same text has the number (None where that cannot happen); `pending_ok`: Pending Opt-In
    does not stop it (an opt-in invitation is for exactly those numbers)."""
    duplicate_rule = f"WHEN {duplicate} THEN '{Reason.DUPLICATE_NUMBER.value}'" if duplicate else ""
    pending = ConsentStatus.PENDING_OPT_IN.value
    pending_rule = (
        "" if pending_ok else f"WHEN {consent} = '{pending}' THEN '{Reason.PENDING_OPT_IN.value}'"
    )
    return f"""CASE
            WHEN {phone} IS NULL THEN '{Reason.NO_SMS_NUMBER.value}'
            WHEN {blocked} THEN '{Reason.BLOCKED.value}'
            WHEN {consent} = '{ConsentStatus.OPTED_OUT.value}' THEN '{Reason.OPTED_OUT.value}'
            {pending_rule}
            WHEN {consent} IS NULL THEN '{Reason.NOT_OPTED_IN.value}'
            {duplicate_rule}
            ELSE '{ELIGIBLE}'
        END"""


# Duplicates: block list and consent belong to the phone, so an earlier row of the audience
# with the same SMS number is eligible exactly when this one is: the duplicate test is an
# EXISTS on the phone index, asked only for numbers listed more than once at all (found once,
# from the phone index alone), which is far cheaper than a window over a million rows. The
# inner `contacts_contact` shadows the outer one, so the audience clause applies to the
# earlier row's contact too.
_DUPLICATE = """p.phone IN (
                SELECT phone FROM contacts_phonenumber GROUP BY phone HAVING COUNT(*) > 1
            ) AND EXISTS (
                SELECT 1 FROM contacts_phonenumber p2
                JOIN contacts_contact ON contacts_contact.id = p2.contact_id
                WHERE p2.phone = p.phone AND p2.sms_enabled AND p2.sms_capable
                    AND (p2.contact_id < p.contact_id
                         OR (p2.contact_id = p.contact_id AND p2.position < p.position))
                    AND {audience}
            )"""

_AUDIENCE_CHECKED = """
    SELECT contacts_contact.id AS contact_id, p.phone AS phone, p.position AS position,
        {case} AS reason
    FROM contacts_contact
    LEFT JOIN contacts_phonenumber p
        ON p.contact_id = contacts_contact.id AND p.sms_enabled AND p.sms_capable
    LEFT JOIN consent_consentrecord cr ON cr.sender_id = %s AND cr.phone = p.phone
    LEFT JOIN consent_blockednumber bn ON bn.organization_id = %s AND bn.phone = p.phone
    WHERE {audience}
"""


def audience_where(contacts: QuerySet[Contact]) -> tuple[str, list[Any]]:
    """The audience as a WHERE clause on contacts_contact, compiled by the ORM."""
    query = contacts.query
    sql, params = query.get_compiler(using=contacts.db).compile(query.where)
    return sql, list(params)


def audience_checked(
    *, organization: Organization, contacts: QuerySet[Contact]
) -> tuple[str, list[Any]]:
    """A SELECT of (contact_id, phone, position, reason): one row per SMS number of each
    contact in `contacts` (one with phone NULL for a contact without any), and its reason."""
    where, params = audience_where(contacts)
    case = reason_case(
        phone="p.phone",
        blocked="bn.id IS NOT NULL",
        consent="cr.status",
        duplicate=_DUPLICATE.format(audience=where),
    )
    sql = _AUDIENCE_CHECKED.format(case=case, audience=where)
    # The EXISTS (in the CASE) comes first in the text.
    return sql, [*params, organization.sender_id, organization.pk, *params]


def numbers_checked(
    *, organization: Organization, phones: list[str], invitation: bool = False
) -> tuple[str, list[Any]]:
    """A SELECT of (phone, reason) for the given numbers as they stand now (no duplicate
    rule: that is decided once, at fan-out; for an `invitation`, Pending Opt-In passes)."""
    values = ", ".join(["(%s)"] * len(phones))
    case = reason_case(
        phone="wanted.phone",
        blocked="bn.id IS NOT NULL",
        consent="cr.status",
        duplicate=None,
        pending_ok=invitation,
    )
    sql = (
        f"WITH wanted(phone) AS (VALUES {values}) "
        f"SELECT wanted.phone, {case} FROM wanted "
        "LEFT JOIN consent_consentrecord cr ON cr.sender_id = %s AND cr.phone = wanted.phone "
        "LEFT JOIN consent_blockednumber bn "
        "ON bn.organization_id = %s AND bn.phone = wanted.phone"
    )
    return sql, [*phones, organization.sender_id, organization.pk]
