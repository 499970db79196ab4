"""The only writer of consent records and their history, and of the block list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization, Sender
from schoolsms.consent.models import (
    BlockedNumber,
    ConsentEvent,
    ConsentRecord,
    ConsentSource,
    ConsentStatus,
)

_ANY = object()


def consent_change(
    *,
    sender: Sender,
    phone: str,
    new_status: str,
    source: str,
    text: str = "",
    actor: User | None = None,
    organization: Organization | None = None,
    expected_status: object = _ANY,
    at: dt.datetime | None = None,
) -> ConsentEvent | None:
    """Move one number's consent on a sender to `new_status` and record why.

    Compare-and-set: the UPDATE checks the status it read, so two concurrent changes never
    both win. `expected_status` (a status, or None for "no record yet") makes the change
    conditional. Returns the recorded event, or None when nothing changed.
    """
    if new_status not in ConsentStatus.values:
        raise ValueError(f"unknown consent status {new_status!r}")
    if source not in ConsentSource.values:
        raise ValueError(f"unknown consent source {source!r}")
    when = at or timezone.now()
    for _ in range(5):
        with transaction.atomic():
            record = ConsentRecord.objects.filter(sender=sender, phone=phone).first()
            old = record.status if record else None
            if expected_status is not _ANY and old != expected_status:
                return None
            if old == new_status:
                return None
            if record is None:
                try:
                    with transaction.atomic():
                        record = ConsentRecord.objects.create(
                            sender=sender, phone=phone, status=new_status, changed_at=when
                        )
                except IntegrityError:
                    continue  # somebody created it first; read again
            else:
                updated = ConsentRecord.objects.filter(pk=record.pk, status=old).update(
                    status=new_status, changed_at=when
                )
                if updated != 1:
                    continue  # changed under us; read again
            return ConsentEvent.objects.create(
                record=record,
                old_status=old or "",
                new_status=new_status,
                source=source,
                text=text,
                actor=actor,
                organization=organization,
                created_at=when,
            )
    raise RuntimeError(f"consent for {phone} kept changing; gave up after 5 tries")


def consent_create_pending(
    *,
    sender: Sender,
    phones: Iterable[str],
    organization: Organization | None = None,
    source: str = ConsentSource.IMPORT,
    at: dt.datetime | None = None,
) -> int:
    """Give every number that has no record on the sender a Pending Opt-In record.

    Existing records are never touched. Set-based, for imports of many numbers: plain SQL,
    because building ORM objects for 100,000 records and events takes most of a minute.
    `at` backdates the records (demo data, migrations). Returns how many were created."""
    wanted = sorted(set(phones))
    if not wanted:
        return 0
    if source not in ConsentSource.values:
        raise ValueError(f"unknown consent source {source!r}")
    when = connection.ops.adapt_datetimefield_value(at or timezone.now())
    records = connection.ops.quote_name(ConsentRecord._meta.db_table)
    events = connection.ops.quote_name(ConsentEvent._meta.db_table)
    pending = ConsentStatus.PENDING_OPT_IN.value
    org_id = organization.pk if organization else None
    created = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(0, len(wanted), 2000):
            chunk = wanted[i : i + 2000]
            have = set(
                ConsentRecord.objects.filter(sender=sender, phone__in=chunk).values_list(
                    "phone", flat=True
                )
            )
            chunk = [phone for phone in chunk if phone not in have]
            if not chunk:
                continue  # a re-import: every number already has a record
            cursor.executemany(
                f"INSERT INTO {records} (sender_id, phone, status, changed_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (sender_id, phone) DO NOTHING",
                [(sender.pk, phone, pending, when) for phone in chunk],
            )
            # Every writer records an event with its change, so a record without history is
            # one this call just created.
            cursor.execute(
                f"INSERT INTO {events} "
                "(record_id, old_status, new_status, source, text, organization_id, created_at) "
                f"SELECT r.id, '', %s, %s, '', %s, %s FROM {records} r "
                f"WHERE r.sender_id = %s AND r.phone IN ({', '.join(['%s'] * len(chunk))}) "
                f"AND NOT EXISTS (SELECT 1 FROM {events} e WHERE e.record_id = r.id)",
                [pending, source, org_id, when, sender.pk, *chunk],
            )
            created += cursor.rowcount
    return created


@dataclass(frozen=True)
class ConsentChange:
    """One change for `consent_change_many`: the status the caller saw (None: no record yet)
    and the status it should become at `at`."""

    phone: str
    expected_status: str | None
    new_status: str
    at: dt.datetime


def consent_change_many(
    *,
    sender: Sender,
    changes: Sequence[ConsentChange],
    source: str,
    text: str = "",
    organization: Organization | None = None,
    actor: User | None = None,
) -> int:
    """`consent_change` for many numbers at once (imports, migrations, demo data).

    In one transaction, with the sender's affected records locked, each change applies only if
    the record is still at `expected_status` (compare-and-set), and each applied change records
    its event at its own time. Returns how many changed; the others are left as they are."""
    if source not in ConsentSource.values:
        raise ValueError(f"unknown consent source {source!r}")
    for change in changes:
        if change.new_status not in ConsentStatus.values:
            raise ValueError(f"unknown consent status {change.new_status!r}")
    if len({c.phone for c in changes}) != len(changes):
        raise ValueError("each number may change only once per call")
    records = connection.ops.quote_name(ConsentRecord._meta.db_table)
    events = connection.ops.quote_name(ConsentEvent._meta.db_table)
    actor_id = actor.pk if actor else None
    org_id = organization.pk if organization else None
    applied = 0
    with transaction.atomic():
        for i in range(0, len(changes), 2000):
            chunk = [c for c in changes[i : i + 2000] if c.expected_status != c.new_status]
            current = {
                phone: (pk, status)
                for pk, phone, status in ConsentRecord.objects.select_for_update()
                .filter(sender=sender, phone__in=[c.phone for c in chunk])
                .values_list("id", "phone", "status")
            }
            fresh = {
                c.phone: c for c in chunk if c.expected_status is None and c.phone not in current
            }
            moved = [
                (current[c.phone][0], c)
                for c in chunk
                if c.phone in current and current[c.phone][1] == c.expected_status
            ]
            # Plain executemany throughout: ORM objects cost most of a large import's time.
            adapt = connection.ops.adapt_datetimefield_value
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {records} (sender_id, phone, status, changed_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (sender_id, phone) DO NOTHING",
                    [(sender.pk, c.phone, c.new_status, adapt(c.at)) for c in fresh.values()],
                )
                created: list[tuple[int, ConsentChange]] = []
                if fresh:
                    # Ours are the new records without history (another writer's have events).
                    cursor.execute(
                        f"SELECT r.id, r.phone FROM {records} r WHERE r.sender_id = %s "
                        f"AND r.phone IN ({', '.join(['%s'] * len(fresh))}) "
                        f"AND NOT EXISTS (SELECT 1 FROM {events} e WHERE e.record_id = r.id)",
                        [sender.pk, *fresh],
                    )
                    created = [(pk, fresh[phone]) for pk, phone in cursor.fetchall()]
                cursor.executemany(
                    f"UPDATE {records} SET status = %s, changed_at = %s "
                    "WHERE id = %s AND status = %s",
                    [(c.new_status, adapt(c.at), pk, c.expected_status) for pk, c in moved],
                )
                cursor.executemany(
                    f"INSERT INTO {events} (record_id, old_status, new_status, source, text, "
                    "actor_id, organization_id, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (pk, c.expected_status or "", c.new_status, source, text, actor_id,
                         org_id, adapt(c.at))
                        for pk, c in [*created, *moved]
                    ],
                )  # fmt: skip
            applied += len(created) + len(moved)
    return applied


def number_block(
    *,
    organization: Organization,
    phone: str,
    reason: str = "",
    actor: User | None = None,
) -> bool:
    """Put a number on the organization's block list. Returns False if it already was."""
    _, created = BlockedNumber.objects.get_or_create(
        organization=organization,
        phone=phone,
        defaults={"reason": reason, "created_by": actor},
    )
    return created


def number_unblock(*, organization: Organization, phone: str) -> bool:
    """Take a number off the block list. Returns False if it was not on it."""
    deleted, _ = BlockedNumber.objects.filter(organization=organization, phone=phone).delete()
    return deleted > 0
