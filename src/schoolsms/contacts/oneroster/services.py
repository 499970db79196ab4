"""Importing a OneRoster bundle: all or nothing, the roster's inactivations guarded by the
organization's limit, schools remembered, and guardian links made to match the roster."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from schoolsms.accounts.models import Organization
from schoolsms.contacts.bulksql import chunks, insert
from schoolsms.contacts.models import (
    Contact,
    ContactRole,
    GuardianLink,
    RosterSchool,
    RosterSettings,
)
from schoolsms.contacts.oneroster.bundle import BULK, BundleError, bundle_open
from schoolsms.contacts.oneroster.roster import Roster, roster_read
from schoolsms.contacts.services import (
    ContactImportError,
    ImportSummary,
    contacts_write,
    import_transaction,
)


def roster_settings_get(*, organization: Organization) -> RosterSettings:
    """The organization's roster settings (the defaults when it never changed them)."""
    found = RosterSettings.objects.filter(organization=organization).first()
    return found or RosterSettings(organization=organization)


def roster_import(
    *,
    organization: Organization,
    file: BinaryIO,
    size: int,
    confirmed: bool = False,
    progress: Callable[[int], None] | None = None,
    saving: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a OneRoster bundle (`size`: its length in bytes).

    A bulk users.csv is the whole roster: contacts it does not list become inactive. A delta
    changes only the users it lists; `status=tobedeleted` makes one inactive. A bundle with
    any problem raises ContactImportError (file, line, column of each) and changes nothing.
    Unless `confirmed`, raises TooManyInactivated when more than the organization's limit of
    its active contacts would become inactive. Consent is never changed, only Pending
    Opt-In records added for new SMS numbers."""
    settings = roster_settings_get(organization=organization)
    try:
        bundle = bundle_open(file, size=size)
    except BundleError as exc:
        raise ContactImportError(exc.errors) from None
    known = dict(
        RosterSchool.objects.filter(organization=organization).values_list("sourced_id", "name")
    )
    roster, errors = roster_read(
        bundle,
        region=organization.phone_region,
        known_schools=known,
        language_column=settings.language_column,
        progress=progress,
    )
    if errors:
        raise ContactImportError(errors)
    summary = ImportSummary()
    if saving is not None:
        saving(len(roster.rows))
    with import_transaction(organization):
        ids = contacts_write(
            organization=organization,
            rows=roster.rows,
            summary=summary,
            inactivate_others=roster.mode == BULK,
            inactivate=set(roster.removed),
            inactivate_limit_percent=None if confirmed else settings.inactivate_limit_percent,
        )
        _schools_write(organization, roster.schools, known)
        _links_write(organization, roster, ids, summary)
    return summary


def _schools_write(
    organization: Organization, schools: dict[str, str], known: dict[str, str]
) -> None:
    for sourced_id, name in schools.items():
        if sourced_id not in known:
            RosterSchool.objects.create(organization=organization, sourced_id=sourced_id, name=name)
        elif known[sourced_id] != name:
            RosterSchool.objects.filter(organization=organization, sourced_id=sourced_id).update(
                name=name
            )


def _links_write(
    organization: Organization, roster: Roster, ids: dict[str, int], summary: ImportSummary
) -> None:
    """Each listed user's links become what the bundle says of it (its own agentSourcedIds and
    any listed user naming it as an agent). Links to users not in the roster are skipped."""
    roles = {r.external_id: r.role for r in roster.rows}
    others = {agent for _, agent in roster.agents if agent not in roles}
    if others:
        for names in chunks(sorted(others)):
            roles.update(
                Contact.objects.filter(
                    organization=organization, external_id__in=names
                ).values_list("external_id", "role")
            )
    wanted: set[tuple[int, int]] = set()
    for user, agent in roster.agents:
        pair = (roles.get(user), roles.get(agent))
        if pair == (ContactRole.STUDENT, ContactRole.GUARDIAN):
            wanted.add((ids[agent], ids[user]))
        elif pair == (ContactRole.GUARDIAN, ContactRole.STUDENT):
            wanted.add((ids[user], ids[agent]))
    listed = {ids[r.external_id] for r in roster.rows}
    existing = {
        (g, s): pk
        for pk, g, s in GuardianLink.objects.filter(
            guardian__organization=organization
        ).values_list("id", "guardian_id", "student_id")
    }
    stale = [
        pk
        for (g, s), pk in existing.items()
        if (g in listed or s in listed) and (g, s) not in wanted
    ]
    added = sorted(wanted - existing.keys())
    for chunk in chunks(stale):
        GuardianLink.objects.filter(id__in=chunk).delete()
    insert(GuardianLink, ["guardian", "student"], added)
    summary.links_added = len(added)
    summary.links_removed = len(stale)
