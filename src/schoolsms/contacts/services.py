"""Writes for contacts and their numbers: the CSV import (all-or-nothing upsert)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.consent.services import consent_create_pending
from schoolsms.contacts.hooks import after_import_run
from schoolsms.contacts.importer import ContactRow, contact_rows_read
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.csvimport import CsvImportError, RowError

__all__ = ["ContactImportError", "ImportSummary", "RowError", "contacts_import"]

CHUNK = 2000
T = TypeVar("T")
Row = tuple[Any, ...]  # values for one executemany row, in column order

# The contact fields a file sets, in ContactRow's names.
_FIELDS = ("first_name", "last_name", "email", "language", "role", "school")


class ContactImportError(CsvImportError):
    """Raised when any row of a contacts file is bad; nothing was written. See `errors`."""


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    numbers: int = 0  # phone numbers in the file
    pending_created: int = 0  # new Pending Opt-In consent records

    def __str__(self) -> str:
        return (
            f"{self.rows} rows: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; {self.numbers} phone numbers, "
            f"{self.pending_created} new Pending Opt-In"
        )


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def contacts_import(
    *,
    organization: Organization,
    file: BinaryIO,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Upsert contacts by external_id from a CSV file; each contact's numbers become the file's.

    Every row is checked before anything is written; any bad row raises ContactImportError
    listing them all and nothing changes. Newly seen SMS-enabled numbers get Pending Opt-In
    on the organization's sender; existing consent records are never changed. Importing the
    same file twice changes nothing the second time. `progress` receives the number of rows
    checked so far.
    """
    rows, errors = contact_rows_read(file, region=organization.phone_region, progress=progress)
    if errors:
        raise ContactImportError(errors)
    summary = ImportSummary(rows=len(rows), numbers=sum(len(r.phones) for r in rows))
    try:
        with transaction.atomic():
            _write(organization, rows, summary)
            transaction.on_commit(lambda: after_import_run(organization))
    except IntegrityError:
        # Only a concurrent import of the same organization can collide with our inserts.
        raise ContactImportError(
            [RowError(0, "", "", "another import for this organization ran at the same time; "
                      "nothing was imported, import the file again")]
        ) from None  # fmt: skip
    return summary


def _write(organization: Organization, rows: list[ContactRow], summary: ImportSummary) -> None:
    # Datetimes go in adapted once: these statements bypass the ORM (see _insert).
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    existing: dict[str, tuple[int, tuple[object, ...]]] = {
        external_id: (pk, tuple(values))
        for pk, external_id, *values in Contact.objects.filter(
            organization=organization
        ).values_list("id", "external_id", *_FIELDS)
    }
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
        summary.updated += 1
        changed.append((*values, now, pk))
        if phones_changed:
            replace_phones.append((pk, row))

    summary.created = len(new_rows)
    # Plain executemany: the ORM's bulk_create and bulk_update spend most of a large import
    # building SQL, and these rows need none of their per-object machinery.
    _insert(
        Contact,
        ["organization", "external_id", *_FIELDS, "created_at", "updated_at"],
        [(organization.pk, r.external_id, *_values(r), now, now) for r in new_rows],
    )
    targets = list(replace_phones)
    if new_rows:
        ids = dict(
            Contact.objects.filter(organization=organization).values_list("external_id", "id")
        )
        targets.extend((ids[r.external_id], r) for r in new_rows)
    _update(Contact, [*_FIELDS, "updated_at"], changed)
    for chunk in _chunks(replace_phones):
        PhoneNumber.objects.filter(contact_id__in=[pk for pk, _ in chunk]).delete()

    phones: list[Row] = []
    for pk, row in targets:
        # A number that stays keeps what delivery failures taught us about it.
        capable = {p: cap for p, _, cap in old_phones.get(pk, [])}
        phones.extend(
            (pk, position, p.phone, p.sms_enabled, capable.get(p.phone, True))
            for position, p in enumerate(row.phones, start=1)
        )
    _insert(PhoneNumber, ["contact", "position", "phone", "sms_enabled", "sms_capable"], phones)

    summary.pending_created = consent_create_pending(
        sender=organization.sender,
        phones=_sms_numbers(rows),
        organization=organization,
    )


def _values(row: ContactRow) -> Row:
    return tuple(getattr(row, f) for f in _FIELDS)


def _columns(model: type[Model], names: Sequence[str]) -> list[str]:
    columns = {f.name: f.column for f in model._meta.concrete_fields}
    return [connection.ops.quote_name(str(columns[name])) for name in names]


def _insert(model: type[Model], names: Sequence[str], rows: Sequence[Row]) -> None:
    columns = _columns(model, names)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            cursor.executemany(sql, chunk)


def _update(model: type[Model], names: Sequence[str], rows: Sequence[Row]) -> None:
    """Rows are the new values in `names` order followed by the primary key."""
    assignments = ", ".join(f"{c} = %s" for c in _columns(model, names))
    sql = (
        f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {assignments} "
        f"WHERE {_columns(model, ['id'])[0]} = %s"
    )
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            cursor.executemany(sql, chunk)


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
