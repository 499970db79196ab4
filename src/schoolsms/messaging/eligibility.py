"""The eligibility rules, defined once, in SQL: who may be texted, and else the first rule that
stops them. Fan-out, the send-time re-check, the audience breakdown and the choice of who gets
an opt-in invitation all use this.

The rules, in order (the first that applies is the row's reason): no_sms_number, blocked,
opted_out, pending_opt_in, not_opted_in, duplicate_number. Block list and consent belong to
the number (consent to the sender's short code, the block list to the organization).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import ConsentStatus
from schoolsms.contacts.models import Contact
from schoolsms.messaging.models import DeliveryResult, Reason

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
# with the same SMS number is eligible exactly when this one is. The test is an EXISTS on the
# phone index: for a number nobody else has it finds only the row itself (one index step per
# row, as cheap as a pass over the whole phone index was, and it costs nothing more when the
# audience is fanned out in chunks). The inner `contacts_contact` shadows the outer one, so the
# audience clause applies to the earlier row's contact too.
_DUPLICATE = """EXISTS (
                SELECT 1 FROM contacts_phonenumber p2
                WHERE p2.phone = p.phone AND p2.sms_enabled AND p2.sms_capable
                    AND (p2.contact_id < p.contact_id
                         OR (p2.contact_id = p.contact_id AND p2.position < p.position))
                    AND p2.contact_id IN (SELECT contacts_contact.id FROM contacts_contact
                                          WHERE {audience})
            )"""

# A chunk of a fan-out also asks the rows written so far: a number an earlier chunk texted is a
# duplicate here, even if the contact who had it then has another number now. `m.id >= first`
# keeps the look-up (on the (organization, phone, id) index) to this broadcast's rows and the
# few after them, not every text the number ever got.
_TEXTED = f"""EXISTS (
                SELECT 1 FROM messaging_message m
                WHERE m.organization_id = %s AND m.phone = p.phone AND m.id >= %s
                    AND m.broadcast_id = %s
                    AND m.result <> '{DeliveryResult.INELIGIBLE_TO_SEND.value}'
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


@dataclass(frozen=True)
class Texted:
    """The rows a broadcast's fan-out has written so far: its id and its first row's id."""

    broadcast_id: int
    first_row_id: int


def audience_where(contacts: QuerySet[Contact]) -> tuple[str, list[Any]]:
    """The audience as a WHERE clause on contacts_contact, compiled by the ORM."""
    query = contacts.query
    sql, params = query.get_compiler(using=contacts.db).compile(query.where)
    return sql, list(params)


def audience_checked(
    *,
    organization: Organization,
    contacts: QuerySet[Contact],
    texted: Texted | None = None,
    invitation: bool = False,
) -> tuple[str, list[Any]]:
    """A SELECT of (contact_id, phone, position, reason): one row per SMS number of each
    contact in `contacts` (one with phone NULL for a contact without any), and its reason.

    `texted`: the rows of the broadcast written by earlier chunks of its fan-out (`contacts`
    is then the next chunk): a number one of them texted is a duplicate too. `invitation`: for
    an opt-in invitation Pending Opt-In passes, and a number is a duplicate after the first
    contact of the whole organization with it (an invitation per language goes out, and a
    number is invited once, in the first contact's language)."""
    where, params = audience_where(contacts)
    if invitation:
        among, among_params = audience_where(Contact.objects.filter(organization=organization))
    else:
        among, among_params = where, params
    duplicate = _DUPLICATE.format(audience=among)
    duplicate_params = list(among_params)
    if texted is not None:
        duplicate = f"({duplicate} OR {_TEXTED})"
        duplicate_params += [organization.pk, texted.first_row_id, texted.broadcast_id]
    case = reason_case(
        phone="p.phone",
        blocked="bn.id IS NOT NULL",
        consent="cr.status",
        duplicate=duplicate,
        pending_ok=invitation,
    )
    sql = _AUDIENCE_CHECKED.format(case=case, audience=where)
    # The duplicate test (in the CASE) comes first in the text.
    return sql, [*duplicate_params, organization.sender_id, organization.pk, *params]


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
