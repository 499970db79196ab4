"""Writes for contacts and their numbers: the all-or-nothing upsert behind every import (CSV,
OneRoster), with the roster's inactivation of contacts it no longer lists."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.consent.services import consent_create_pending
from schoolsms.contacts.bulksql import Row, chunks, insert, update
from schoolsms.contacts.hooks import after_import_run
from schoolsms.contacts.importer import ContactRow, contact_rows_read
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.csvimport import CsvImportError, RowError

__all__ = [
    "ContactImportError",
    "ImportSummary",
    "RowError",
    "TooManyInactivated",
    "contacts_import",
    "contacts_write",
    "import_transaction",
]

# The contact fields a file sets, in ContactRow's names.
_FIELDS = ("first_name", "last_name", "email", "language", "role", "school", "active")


class ContactImportError(CsvImportError):
    """Raised when any row of a contacts file is bad; nothing was written. See `errors`."""


class TooManyInactivated(Exception):
    """The roster would inactivate more than the organization allows in one import without an
    admin's confirmation (a half-empty export must not silence a district). Nothing was written."""

    def __init__(self, *, inactivating: int, active: int, limit_percent: int) -> None:
        self.inactivating = inactivating
        self.active = active
        self.limit_percent = limit_percent
        share = inactivating * 100 / active if active else 100.0
        super().__init__(
            f"this roster would make {inactivating:,} of {active:,} active contacts inactive "
            f"({share:.0f}%, more than the {limit_percent}% allowed without confirmation); "
            "nothing was imported until an admin confirms"
        )


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    numbers: int = 0  # phone numbers in the file
    pending_created: int = 0  # new Pending Opt-In consent records
    inactivated: int = 0  # active before, inactive now (left the roster, or disabled in it)
    reactivated: int = 0  # inactive before, listed and enabled again
    links_added: int = 0  # guardian <-> student links
    links_removed: int = 0

    def __str__(self) -> str:
        text = (
            f"{self.rows} rows: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; {self.numbers} phone numbers, "
            f"{self.pending_created} new Pending Opt-In"
        )
        if self.inactivated or self.reactivated:
            text += f"; {self.inactivated} made inactive, {self.reactivated} active again"
        if self.links_added or self.links_removed:
            text += f"; guardian links {self.links_added} added, {self.links_removed} removed"
        return text


def contacts_import(
    *,
    organization: Organization,
    file: BinaryIO,
    progress: Callable[[int], None] | None = None,
    saving: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Upsert contacts by external_id from a CSV file; each contact's numbers become the file's.

    Every row is checked before anything is written; any bad row raises ContactImportError
    listing them all and nothing changes. Newly seen SMS-enabled numbers get Pending Opt-In
    on the organization's sender; existing consent records are never changed. Importing the
    same file twice changes nothing the second time. A listed contact that was inactive is
    active again; a plain CSV never inactivates anyone. `progress` receives the number of rows
    checked so far; `saving` receives the number of rows once every one is good, before the
    write begins.
    """
    rows, errors = contact_rows_read(file, region=organization.phone_region, progress=progress)
    if errors:
        raise ContactImportError(errors)
    summary = ImportSummary(rows=len(rows))
    if saving is not None:
        saving(len(rows))
    with import_transaction(organization):
        contacts_write(organization=organization, rows=rows, summary=summary)
    return summary


@contextmanager
def import_transaction(organization: Organization) -> Iterator[None]:
    """transaction.atomic for an import: a collision with a concurrent import of the same
    organization becomes one clear row error instead of an IntegrityError."""
    try:
        with transaction.atomic():
            yield
            # Apps above (opt-in invitations) act on what the import brought, once committed.
            transaction.on_commit(lambda: after_import_run(organization))
    except IntegrityError:
        raise ContactImportError(
            [RowError(0, "", "", "another import for this organization ran at the same time; "
                      "nothing was imported, import the file again")]
        ) from None  # fmt: skip


def contacts_write(
    *,
    organization: Organization,
    rows: list[ContactRow],
    summary: ImportSummary,
    inactivate_others: bool = False,
    inactivate: Collection[str] = (),
    inactivate_limit_percent: int | None = None,
) -> dict[str, int]:
    """Write checked rows (call inside a transaction). With `inactivate_others` every contact
    the rows do not list becomes inactive (a bulk roster); `inactivate` names more by
    external_id (a delta's removals). When that would inactivate more than
    `inactivate_limit_percent` of the active contacts, raises TooManyInactivated before any
    write. Returns external_id -> id for every contact of the organization."""
    summary.rows = len(rows)
    summary.numbers = sum(len(r.phones) for r in rows)
    # Datetimes go in adapted once: these statements bypass the ORM (see bulksql).
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    existing: dict[str, tuple[int, tuple[object, ...]]] = {
        external_id: (pk, tuple(values))
        for pk, external_id, *values in Contact.objects.filter(
            organization=organization
        ).values_list("id", "external_id", *_FIELDS)
    }
    active_index = _FIELDS.index("active")
    listed = {r.external_id for r in rows}
    leaving = [
        pk
        for external_id, (pk, values) in existing.items()
        if values[active_index]
        and external_id not in listed
        and (inactivate_others or external_id in inactivate)
    ]
    disabling = sum(
        1
        for r in rows
        if not r.active and (found := existing.get(r.external_id)) and found[1][active_index]
    )
    summary.inactivated = len(leaving) + disabling
    active_before = sum(1 for _, values in existing.values() if values[active_index])
    if (
        inactivate_limit_percent is not None
        and summary.inactivated
        and summary.inactivated * 100 > inactivate_limit_percent * active_before
    ):
        raise TooManyInactivated(
            inactivating=summary.inactivated,
            active=active_before,
            limit_percent=inactivate_limit_percent,
        )

    old_phones: dict[int, list[tuple[str, bool, bool]]] = {}
    for contact_id, phone, sms_enabled, sms_capable in (
        PhoneNumber.objects.filter(contact__organization=organization)
        .order_by("contact_id", "position")
        .values_list("contact_id", "phone", "sms_enabled", "sms_capable")
    ):
        old_phones.setdefault(contact_id, []).append((phone, sms_enabled, sms_capable))

    new_rows: list[ContactRow] = []
    changed: list[Row] = []
    replace_phones: list[tuple[int, ContactRow]] = []
    for row in rows:
        found = existing.get(row.external_id)
        if found is None:
            new_rows.append(row)
            continue
        pk, old_values = found
        values = _values(row)
        current = [(p, sms) for p, sms, _ in old_phones.get(pk, [])]
        phones_changed = current != [(p.phone, p.sms_enabled) for p in row.phones]
        if old_values == values and not phones_changed:
            summary.unchanged += 1
            continue
        if row.active and not old_values[active_index]:
            summary.reactivated += 1
        summary.updated += 1
        changed.append((*values, now, pk))
        if phones_changed:
            replace_phones.append((pk, row))

    summary.created = len(new_rows)
    insert(
        Contact,
        ["organization", "external_id", *_FIELDS, "created_at", "updated_at"],
        [(organization.pk, r.external_id, *_values(r), now, now) for r in new_rows],
    )
    ids = {external_id: pk for external_id, (pk, _) in existing.items()}
    targets = list(replace_phones)
    if new_rows:
        ids = dict(
            Contact.objects.filter(organization=organization).values_list("external_id", "id")
        )
        targets.extend((ids[r.external_id], r) for r in new_rows)
    update(Contact, [*_FIELDS, "updated_at"], changed)
    update(Contact, ["active", "updated_at"], [(False, now, pk) for pk in leaving])
    for chunk in chunks(replace_phones):
        PhoneNumber.objects.filter(contact_id__in=[pk for pk, _ in chunk]).delete()

    phones: list[Row] = []
    for pk, row in targets:
        # A number that stays keeps what delivery failures taught us about it.
        capable = {p: cap for p, _, cap in old_phones.get(pk, [])}
        phones.extend(
            (pk, position, p.phone, p.sms_enabled, capable.get(p.phone, True))
            for position, p in enumerate(row.phones, start=1)
        )
    insert(PhoneNumber, ["contact", "position", "phone", "sms_enabled", "sms_capable"], phones)

    summary.pending_created = consent_create_pending(
        sender=organization.sender,
        phones=_sms_numbers(rows),
        organization=organization,
    )
    return ids


def _values(row: ContactRow) -> Row:
    return tuple(getattr(row, f) for f in _FIELDS)


def _sms_numbers(rows: Iterable[ContactRow]) -> set[str]:
    return {p.phone for r in rows for p in r.phones if p.sms_enabled}


def phones_mark_not_capable(*, organization_id: int, phones: Iterable[str]) -> list[str]:
    """Mark numbers as unable to take SMS (after repeated permanent delivery failures), so later
    broadcasts treat them as no SMS number. Returns the numbers that were newly marked."""
    with transaction.atomic():
        capable = PhoneNumber.objects.filter(
            contact__organization_id=organization_id, phone__in=set(phones), sms_capable=True
        )
        marked = sorted(set(capable.values_list("phone", flat=True)))
        capable.update(sms_capable=False)
    return marked


def phone_capability_reset(*, organization: Organization, phone: str) -> int:
    """An admin says the number can take SMS again (e.g. the landline became a mobile).
    Returns how many of the organization's phone rows were changed."""
    return PhoneNumber.objects.filter(
        contact__organization=organization, phone=phone, sms_capable=False
    ).update(sms_capable=True)
