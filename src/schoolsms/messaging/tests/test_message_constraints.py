"""The database itself refuses a message row the domain forbids (SQLite and PostgreSQL: the
suite runs on both): each reason belongs to its result, and only Sent rows are delivered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from schoolsms.accounts.models import Organization
from schoolsms.messaging.models import (
    FAILED_REASONS,
    INELIGIBLE_REASONS,
    Broadcast,
    BroadcastStatus,
    DeliveryResult,
    Message,
    Reason,
)

NOW = timezone.now()


def _row(org: Organization, result: str, reason: str = "", **fields: Any) -> Message:
    broadcast = Broadcast.objects.create(
        organization=org, name="Snow day", text="School is closed.", status=BroadcastStatus.SENDING
    )
    fields.setdefault("sent_at", NOW if result == DeliveryResult.SENT else None)
    return Message.objects.create(
        broadcast=broadcast,
        organization=org,
        sender=org.sender,
        phone="+12175550100",
        result=result,
        reason=reason,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


def _refused(org: Organization, result: str, reason: str = "", **fields: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(org, result, reason, **fields)
    assert not Message.objects.exists()


@pytest.mark.parametrize("reason", INELIGIBLE_REASONS)
def test_an_eligibility_reason_on_a_failed_row_is_refused(org: Organization, reason: str) -> None:
    _refused(org, DeliveryResult.FAILED_TO_SEND, reason)


@pytest.mark.parametrize("reason", FAILED_REASONS)
def test_a_carrier_reason_on_an_ineligible_row_is_refused(org: Organization, reason: str) -> None:
    _refused(org, DeliveryResult.INELIGIBLE_TO_SEND, reason)


@pytest.mark.parametrize(
    "result", [DeliveryResult.NOT_SENT_YET, DeliveryResult.SENDING, DeliveryResult.SENT]
)
@pytest.mark.parametrize("reason", Reason.values)
def test_any_reason_on_a_row_not_undelivered_is_refused(
    org: Organization, result: str, reason: str
) -> None:
    _refused(org, result, reason)


@pytest.mark.parametrize(
    "result", [DeliveryResult.INELIGIBLE_TO_SEND, DeliveryResult.FAILED_TO_SEND]
)
def test_an_undelivered_row_without_a_reason_is_refused(org: Organization, result: str) -> None:
    _refused(org, result, "")


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (DeliveryResult.NOT_SENT_YET, ""),
        (DeliveryResult.SENDING, ""),
        (DeliveryResult.INELIGIBLE_TO_SEND, Reason.OPTED_OUT),
        (DeliveryResult.FAILED_TO_SEND, Reason.CONTACT_ACCOUNT),
    ],
)
def test_delivered_at_on_anything_but_sent_is_refused(
    org: Organization, result: str, reason: str
) -> None:
    _refused(org, result, reason, delivered_at=NOW)


def test_a_sent_row_without_sent_at_is_refused(org: Organization) -> None:
    _refused(org, DeliveryResult.SENT, sent_at=None)


@pytest.mark.parametrize(
    ("result", "reason", "delivered"),
    [
        (DeliveryResult.NOT_SENT_YET, "", False),
        (DeliveryResult.SENDING, "", False),
        (DeliveryResult.SENT, "", False),
        (DeliveryResult.SENT, "", True),
        *[(DeliveryResult.INELIGIBLE_TO_SEND, r, False) for r in INELIGIBLE_REASONS],
        *[(DeliveryResult.FAILED_TO_SEND, r, False) for r in FAILED_REASONS],
    ],
)
def test_every_combination_the_domain_allows_is_kept(
    org: Organization, result: str, reason: str, delivered: bool
) -> None:
    delivered_at = NOW + dt.timedelta(seconds=5) if delivered else None
    row = _row(org, result, reason, delivered_at=delivered_at)
    row.refresh_from_db()
    assert (row.result, row.reason, row.delivered_at) == (result, reason, delivered_at)


def test_an_update_that_breaks_a_rule_is_refused_and_changes_nothing(org: Organization) -> None:
    row = _row(org, DeliveryResult.FAILED_TO_SEND, Reason.CARRIER_ERROR)
    rows = Message.objects.filter(pk=row.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(reason=Reason.BLOCKED)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(delivered_at=NOW)
    assert rows.values_list("result", "reason", "delivered_at").get() == (
        "failed",
        "carrier_error",
        None,
    )
