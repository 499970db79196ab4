"""Writes for broadcasts as users make them: create a draft, send or schedule it, cancel it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.contacts.models import ContactRole
from schoolsms.inputs import check_schedule, refuse_control_characters
from schoolsms.messaging import selectors
from schoolsms.messaging.invitations import invitable_counts
from schoolsms.messaging.languages import language_name
from schoolsms.messaging.models import Broadcast, BroadcastKind, BroadcastStatus, ReplyKind
from schoolsms.messaging.replies import LANGUAGES, reply_text
from schoolsms.messaging.tasks import broadcast_dispatch_enqueue
from schoolsms.messaging.text import text_check

# A schedule a little in the past is "now" (a slow form, clock skew); further back is a mistake.
SCHEDULE_GRACE = dt.timedelta(minutes=5)

# An explicit list becomes one IN (...) of the audience query; databases cap its parameters
# (SQLite 32,766, PostgreSQL 65,535). Bigger audiences are better said with roles or schools.
MAX_EXTERNAL_IDS = 20_000

CANCELABLE = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)


def _listing(values: Sequence[str], most: int = 10) -> str:
    shown = ", ".join(values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def parse_external_ids(data: str) -> list[str]:
    """External ids from pasted text or a file: a CSV with an `external_id` column, or ids one per
    line (commas, semicolons and spaces also separate them). Duplicates are dropped."""
    lines = [line for line in data.splitlines() if line.strip()]
    if not lines:
        return []
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    if "external_id" in header:
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        assert reader.fieldnames is not None
        column = next(f for f in reader.fieldnames if f.strip().lower() == "external_id")
        ids = [(row.get(column) or "").strip() for row in reader]
    else:
        ids = re.split(r"[\s,;]+", data)
    return list(dict.fromkeys(x for x in ids if x))


def validate_name(name: str) -> str:
    """The broadcast's name as it will be stored (stripped), or ValidationError."""
    name = name.strip()
    if not name:
        raise ValidationError("the broadcast name is empty")
    if len(name) > 200:
        raise ValidationError("the broadcast name is longer than 200 characters")
    refuse_control_characters("name", name)
    return name


def validate_text(*, organization: Organization, text: str) -> None:
    if not text.strip():
        raise ValidationError("the message text is empty")
    refuse_control_characters("text", text, multiline=True)
    check = text_check(text)
    limit = organization.segment_limit
    if check.segments > limit:
        raise ValidationError(
            f"the message is {check.segments} SMS segments long ({check.characters} characters, "
            f"{check.encoding}); the limit for {organization.name} is {limit} "
            f"segment{'s' if limit != 1 else ''}. Shorten the text"
            + (" or replace the characters that force UCS-2" if check.encoding == "UCS-2" else "")
            + "."
        )


def validate_texts(*, organization: Organization, texts: Mapping[str, str]) -> dict[str, str]:
    """Texts in other languages than English, by language code: each language must be one of
    the organization's (its contacts'), each text must fit like the English one. Empty texts
    are left out (those recipients get the English text)."""
    if not any(text.strip() for text in texts.values()):
        return {}
    # (Read only when there is a text to check: it passes every contact of the organization,
    # and sending an emergency to a million waits for it.)
    known = selectors.organization_languages(organization)
    checked: dict[str, str] = {}
    for raw_code, text in texts.items():
        code = raw_code.strip().lower()
        if not text.strip():
            continue
        if code == "en":
            raise ValidationError("the English text is the main message text, not a translation")
        if code not in known:
            raise ValidationError(
                f"no contact of {organization.name} has language {code!r}"
                f" (languages besides English: {', '.join(known) or 'none'})"
            )
        try:
            validate_text(organization=organization, text=text)
        except ValidationError as exc:
            name = language_name(code)
            raise ValidationError(f"the {name} text: " + "; ".join(exc.messages)) from None
        checked[code] = text
    return checked


def validate_audience(
    *,
    organization: Organization,
    roles: Sequence[str],
    schools: Sequence[str],
    external_ids: Sequence[str],
) -> None:
    unknown_roles = [r for r in roles if r not in ContactRole.values]
    if unknown_roles:
        raise ValidationError(
            f"unknown role {_listing(unknown_roles)} (choose from {', '.join(ContactRole.values)})"
        )
    if schools:
        known = set(selectors.organization_schools(organization))
        unknown = [s for s in schools if s not in known]
        if unknown:
            raise ValidationError(
                f"no contact of {organization.name} is at school {_listing(unknown)}"
                f" (schools: {_listing(sorted(known)) or 'none'})"
            )
    if len(external_ids) > MAX_EXTERNAL_IDS:
        raise ValidationError(
            f"{len(external_ids)} external ids are more than a list may hold "
            f"({MAX_EXTERNAL_IDS}); choose the audience by role or school instead"
        )
    if external_ids:
        missing = selectors.external_ids_missing(
            organization=organization, external_ids=external_ids
        )
        if missing:
            raise ValidationError(
                f"{len(missing)} external id{'s are' if len(missing) != 1 else ' is'} not "
                f"{'contacts' if len(missing) != 1 else 'a contact'} of {organization.name}: "
                f"{_listing(missing, 20)}"
            )


def _checked(
    *,
    organization: Organization,
    name: str,
    text: str,
    roles: Sequence[str],
    schools: Sequence[str],
    external_ids: Sequence[str],
    emergency: bool,
    texts: Mapping[str, str],
) -> dict[str, Any]:
    """A broadcast's fields after checking its name, texts and audience."""
    name = validate_name(name)
    validate_text(organization=organization, text=text)
    others = validate_texts(organization=organization, texts=texts)
    roles = list(dict.fromkeys(r.strip().lower() for r in roles if r.strip()))
    schools = list(dict.fromkeys(s.strip() for s in schools if s.strip()))
    external_ids = list(dict.fromkeys(x.strip() for x in external_ids if x.strip()))
    validate_audience(
        organization=organization, roles=roles, schools=schools, external_ids=external_ids
    )
    return {
        "name": name,
        "text": text,
        "audience_roles": roles,
        "audience_schools": schools,
        "audience_external_ids": external_ids,
        "emergency": emergency,
        "texts": others,
    }


def broadcast_create(
    *,
    organization: Organization,
    name: str,
    text: str,
    created_by: User | None = None,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
    emergency: bool = False,
    texts: Mapping[str, str] | None = None,
) -> Broadcast:
    """Create a draft broadcast after checking its name, text and audience."""
    fields = _checked(
        organization=organization,
        name=name,
        text=text,
        roles=roles,
        schools=schools,
        external_ids=external_ids,
        emergency=emergency,
        texts=texts or {},
    )
    return Broadcast.objects.create(organization=organization, created_by=created_by, **fields)


def broadcast_draft_update(
    *,
    broadcast: Broadcast,
    name: str,
    text: str,
    roles: Sequence[str] = (),
    schools: Sequence[str] = (),
    external_ids: Sequence[str] = (),
    emergency: bool = False,
    texts: Mapping[str, str] | None = None,
) -> Broadcast:
    """Change a draft's name, text and audience after the same checks as creating it; only a
    draft changes (compare-and-set on the status)."""
    fields = _checked(
        organization=broadcast.organization,
        name=name,
        text=text,
        roles=roles,
        schools=schools,
        external_ids=external_ids,
        emergency=emergency,
        texts=texts or {},
    )
    moved = Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.DRAFT).update(**fields)
    broadcast.refresh_from_db()
    if moved != 1:
        raise ValidationError(
            f"broadcast {broadcast.pk} is {broadcast.get_status_display().lower()}; "
            "only a draft can be changed",
            code="state",
        )
    return broadcast


def broadcast_draft_delete(*, broadcast: Broadcast) -> None:
    """Delete a draft (never a broadcast that was sent or scheduled: those keep their record)."""
    deleted, _ = Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.DRAFT).delete()
    if not deleted:
        broadcast.refresh_from_db(fields=["status"])
        raise ValidationError(
            f"broadcast {broadcast.pk} is {broadcast.get_status_display().lower()}; "
            "only a draft can be deleted",
            code="state",
        )


def broadcast_send(*, broadcast: Broadcast, at: dt.datetime | None = None) -> Broadcast:
    """Move a draft to scheduled and queue its dispatch, now or at `at`."""
    now = timezone.now()
    if at is not None:
        if timezone.is_naive(at):
            raise ValueError("`at` must be timezone-aware")
        check_schedule("at", at)
        if at < now - SCHEDULE_GRACE:
            raise ValidationError(
                f"the scheduled time {at.isoformat(timespec='minutes')} is in the past"
            )
    run_after = at if at is not None and at > now else None
    with transaction.atomic():
        moved = Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.DRAFT).update(
            status=BroadcastStatus.SCHEDULED, scheduled_at=at or now
        )
        if moved != 1:
            broadcast.refresh_from_db(fields=["status"])
            raise ValidationError(
                f"broadcast {broadcast.pk} is {broadcast.get_status_display().lower()}; "
                "only a draft can be sent",
                code="state",
            )
        transaction.on_commit(lambda: broadcast_dispatch_enqueue(broadcast.pk, at=run_after))
    broadcast.refresh_from_db()
    return broadcast


def broadcast_cancel(*, broadcast: Broadcast) -> Broadcast:
    """Cancel a broadcast that is not finished; rows not sent yet are never sent."""
    moved = Broadcast.objects.filter(pk=broadcast.pk, status__in=CANCELABLE).update(
        status=BroadcastStatus.CANCELED, canceled_at=timezone.now()
    )
    broadcast.refresh_from_db()
    if moved != 1:
        raise ValidationError(
            f"broadcast {broadcast.pk} is already {broadcast.get_status_display().lower()}; "
            "it cannot be canceled",
            code="state",
        )
    return broadcast


def invitations_send(
    *, organization: Organization, actor: User | None = None, now: dt.datetime | None = None
) -> list[Broadcast]:
    """Invite every number that may be invited now: one invitation broadcast per language
    that has any, sent at once (quiet hours still hold). Returns the broadcasts made."""
    now = now or timezone.now()
    counts = invitable_counts(organization=organization, now=now)
    made = []
    for language, count in counts.items():
        if not count:
            continue
        with transaction.atomic():
            broadcast = Broadcast.objects.create(
                organization=organization,
                kind=BroadcastKind.INVITATION,
                name=f"Opt-in invitation ({LANGUAGES[language]})",
                text=reply_text(
                    sender=organization.sender,
                    organization=organization,
                    language=language,
                    kind=ReplyKind.INVITATION,
                ),
                audience_languages=[language],
                created_by=actor,
                status=BroadcastStatus.DRAFT,
            )
            made.append(broadcast_send(broadcast=broadcast))
    return made


def invitations_after_import(organization: Organization) -> None:
    """After a contact import: invite the new Pending Opt-In numbers, if the organization
    turned that on (Settings > Text replies)."""
    if Organization.objects.filter(pk=organization.pk, invite_after_import=True).exists():
        invitations_send(organization=organization)
