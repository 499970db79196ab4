"""The only writer of consent records and their history, and of the block list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, transaction
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

    `expected_status` (a status, or None for "no record yet") makes the change conditional;
    without it the current status is read and the change retried if another writer wins.
    Returns the recorded event, or None when nothing changed.
    """
    when = at or timezone.now()
    for _ in range(5):
        with transaction.atomic():
            current = (
                ConsentRecord.objects.filter(sender=sender, phone=phone)
                .values_list("status", flat=True)
                .first()
            )
            if expected_status is not _ANY and current != expected_status:
                return None
            if current == new_status:
                return None
            change = ConsentChange(phone, current, new_status, when)
            applied = consent_change_many(
                sender=sender,
                changes=[change],
                source=source,
                text=text,
                organization=organization,
                actor=actor,
            )
            if applied:
                return ConsentEvent.objects.filter(
                    record__sender=sender, record__phone=phone
                ).latest("id")
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

    Existing records are never touched. `at` backdates the records (demo data, migrations).
    Returns how many were created."""
    when = at or timezone.now()
    pending = ConsentStatus.PENDING_OPT_IN.value
    changes = [ConsentChange(phone, None, pending, when) for phone in sorted(set(phones))]
    return consent_change_many(
        sender=sender, changes=changes, source=source, organization=organization
    )


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
    """The one writer of consent: many numbers at once (imports, migrations, demo data), and
    `consent_change` / `consent_create_pending` go through it.

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
    # The evidence names who acted as they were named then; it outlives the user and the
    # organization (deleting them only unlinks).
    actor_name = (actor.get_full_name() or actor.get_username()) if actor else ""
    actor_email = actor.email if actor else ""
    org_id = organization.pk if organization else None
    org_name = organization.name if organization else ""
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
                    "actor_id, actor_name, actor_email, organization_id, organization_name, "
                    "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (pk, c.expected_status or "", c.new_status, source, text, actor_id,
                         actor_name, actor_email, org_id, org_name, adapt(c.at))
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
