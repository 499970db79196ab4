"""Reads of consent status, history and the block list."""

from __future__ import annotations

from django.db.models import QuerySet

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import BlockedNumber, ConsentEvent, ConsentRecord


def consent_record_get(*, organization: Organization, phone: str) -> ConsentRecord | None:
    return ConsentRecord.objects.filter(sender_id=organization.sender_id, phone=phone).first()


def consent_history(*, organization: Organization, phone: str) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(
        record__sender_id=organization.sender_id, record__phone=phone
    ).order_by("created_at", "id")


def is_blocked(*, organization: Organization, phone: str) -> bool:
    return BlockedNumber.objects.filter(organization=organization, phone=phone).exists()


def blocked_numbers(*, organization: Organization) -> QuerySet[BlockedNumber]:
    return BlockedNumber.objects.filter(organization=organization).order_by("phone")
