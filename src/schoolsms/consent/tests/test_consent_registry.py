"""Consent writers used by imports: set-based, compare-and-set, history at each change's time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.consent.services import (
    ConsentChange,
    consent_change,
    consent_change_many,
    consent_create_pending,
)

pytestmark = pytest.mark.django_db

T1 = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
T2 = dt.datetime(2025, 4, 1, 12, tzinfo=dt.UTC)


def test_change_many_creates_and_moves_records_with_events(org: Any) -> None:
    consent_change(sender=org.sender, phone="+12175550101", new_status="pending", source="import")
    applied = consent_change_many(
        sender=org.sender,
        changes=[
            ConsentChange("+12175550101", "pending", "opted_in", T1),
            ConsentChange("+12175550102", None, "opted_out", T2),
        ],
        source="import",
        text="migrated",
        organization=org,
    )
    assert applied == 2
    records = {r.phone: (r.status, r.changed_at) for r in ConsentRecord.objects.all()}
    assert records == {"+12175550101": ("opted_in", T1), "+12175550102": ("opted_out", T2)}
    last = ConsentEvent.objects.filter(record__phone="+12175550101", new_status="opted_in").first()
    assert last is not None
    assert (last.old_status, last.new_status, last.created_at, last.text) == (
        "pending",
        "opted_in",
        T1,
        "migrated",
    )
    assert ConsentEvent.objects.get(record__phone="+12175550102").old_status == ""


def test_change_many_skips_a_record_not_at_the_expected_status(org: Any) -> None:
    consent_change(
        sender=org.sender, phone="+12175550101", new_status="opted_out", source="keyword"
    )
    applied = consent_change_many(
        sender=org.sender,
        changes=[
            ConsentChange("+12175550101", "pending", "opted_in", T1),  # a STOP came in first
            ConsentChange("+12175550103", "opted_in", "opted_out", T1),  # no record at all
        ],
        source="import",
    )
    assert applied == 0
    assert ConsentRecord.objects.get().status == "opted_out"
    assert ConsentEvent.objects.count() == 1


def test_change_many_refuses_bad_input(org: Any) -> None:
    with pytest.raises(ValueError, match="unknown consent status"):
        consent_change_many(
            sender=org.sender, changes=[ConsentChange("+1", None, "maybe", T1)], source="import"
        )
    with pytest.raises(ValueError, match="only once per call"):
        consent_change_many(
            sender=org.sender,
            changes=[ConsentChange("+1", None, "pending", T1)] * 2,
            source="import",
        )


def test_create_pending_can_be_backdated_and_skips_existing_records(org: Any) -> None:
    consent_change(sender=org.sender, phone="+12175550101", new_status="opted_in", source="web")
    created = consent_create_pending(
        sender=org.sender, phones=["+12175550101", "+12175550102"], organization=org, at=T1
    )
    assert created == 1
    record = ConsentRecord.objects.get(phone="+12175550102")
    assert (record.status, record.changed_at, record.events.get().created_at) == (
        "pending",
        T1,
        T1,
    )
    assert ConsentRecord.objects.get(phone="+12175550101").status == "opted_in"
