"""The organizations endpoint: a token sees its user's organizations and roles, nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.accounts.models import ApiToken
from schoolsms.accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def test_my_organizations_with_roles(
    client: Any, admin_user: Any, org: Any, other_org: Any
) -> None:
    org.quiet_hours_start, org.quiet_hours_end = dt.time(21), dt.time(8)
    org.save()
    testing.create_org("ogdenville", sender_code="67589", name="Ogdenville")  # not mine
    testing.create_user(other_org, admin_user.email, "viewer")
    key = api_token_create(user=admin_user, name="sync")
    response = client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert [(o["slug"], o["role"], o["sender"]) for o in response.json()] == [
        ("shelbyville", "viewer", "67588"),
        ("springfield", "admin", "67587"),
    ]
    springfield = response.json()[1]
    assert springfield["quiet_hours"] == "21:00-08:00"
    assert springfield["program_name"] == "Springfield Schools Alerts"
    assert ApiToken.objects.get().last_used_at is not None


def test_a_revoked_token_stops_working(client: Any, admin_user: Any) -> None:
    key = api_token_create(user=admin_user)
    ApiToken.objects.all().delete()
    response = client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
