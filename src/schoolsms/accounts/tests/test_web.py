"""Settings tab through the test client: organization and sender, users and roles, API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.accounts.models import ApiToken, Membership
from schoolsms.accounts.selectors import user_for_api_key

pytestmark = pytest.mark.django_db


def test_organization_settings_save(admin_client: Any, org: Any) -> None:
    page = admin_client.get("/settings/")
    assert page.status_code == 200
    assert "21:00-08:00" in page.content.decode()
    response = admin_client.post(
        "/settings/",
        {
            "form": "organization",
            "name": "Springfield USD",
            "timezone": "America/Chicago",
            "quiet_hours": "20:30-07:45",
        },
        follow=True,
    )
    assert "Organization settings saved." in response.content.decode()
    org.refresh_from_db()
    assert (org.name, org.timezone) == ("Springfield USD", "America/Chicago")
    assert (org.quiet_hours_start, org.quiet_hours_end) == (dt.time(20, 30), dt.time(7, 45))
    admin_client.post(
        "/settings/",
        {"form": "organization", "name": "S", "timezone": "UTC", "quiet_hours": "off"},
    )
    org.refresh_from_db()
    assert not org.has_quiet_hours


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "unknown time zone"),
        ("quiet_hours", "late", "must look like 21:00-08:00"),
    ],
)
def test_organization_settings_refuse_bad_values(
    admin_client: Any, org: Any, field: str, value: str, message: str
) -> None:
    data = {"form": "organization", "name": "X", "timezone": "UTC", "quiet_hours": "off"}
    response = admin_client.post("/settings/", {**data, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Springfield District"


def test_sender_is_editable_only_when_not_shared(admin_client: Any, org: Any) -> None:
    admin_client.post(
        "/settings/",
        {"form": "sender", "program_name": "Springfield Alerts", "help_contact": "555-0100"},
    )
    org.sender.refresh_from_db()
    assert org.sender.program_name == "Springfield Alerts"

    testing.create_org(
        "capital",
        sender_code=org.sender.code,
        name="Capital City",
        program_name="",
        help_contact="",
    )
    page = admin_client.get("/settings/")
    assert "Other organizations share this short code" in page.content.decode()
    refused = admin_client.post(
        "/settings/", {"form": "sender", "program_name": "Hijacked", "help_contact": ""}
    )
    assert refused.status_code == 400
    org.sender.refresh_from_db()
    assert org.sender.program_name == "Springfield Alerts"


def test_role_change_keeps_one_admin(admin_client: Any, admin_user: Any, org: Any) -> None:
    viewer = testing.create_user(org, "v@springfield.example.org", "viewer")
    admin_client.post("/settings/users/role/", {"user_id": viewer.pk, "role": "sender"})
    assert Membership.objects.get(user=viewer).role == "sender"
    response = admin_client.post(
        "/settings/users/role/", {"user_id": admin_user.pk, "role": "viewer"}, follow=True
    )
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.get(user=admin_user).role == "admin"


def test_role_change_cannot_reach_another_organization(admin_client: Any, other_org: Any) -> None:
    outsider = testing.create_user(other_org, "o@shelbyville.example.org", "viewer")
    response = admin_client.post("/settings/users/role/", {"user_id": outsider.pk, "role": "admin"})
    assert response.status_code == 404
    assert Membership.objects.get(user=outsider).role == "viewer"


def test_token_created_once_then_revoked(admin_client: Any, admin_user: Any) -> None:
    response = admin_client.post("/settings/tokens/", {"name": "SIS sync"}, follow=True)
    key = response.context["new_key"]["key"]
    assert key in response.content.decode()
    assert user_for_api_key(key) == admin_user
    again = admin_client.get("/settings/tokens/")
    assert key not in again.content.decode() and "SIS sync" in again.content.decode()
    token = ApiToken.objects.get()
    asked = admin_client.post(f"/settings/tokens/{token.pk}/revoke/").content.decode()
    assert "Revoke the token “SIS sync”" in asked and "It was last used" in asked
    assert user_for_api_key(key) == admin_user
    admin_client.post(f"/settings/tokens/{token.pk}/revoke/", {"confirmed": "yes"})
    assert user_for_api_key(key) is None


def test_cannot_revoke_someone_elses_token(admin_client: Any, org: Any) -> None:
    other = testing.create_user(org, "other@springfield.example.org", "admin")
    testing_key = ApiToken.objects.create(user=other, key_hash="x" * 64, prefix="abcd")
    url = f"/settings/tokens/{testing_key.pk}/revoke/"
    assert admin_client.post(url).status_code == 404
    assert admin_client.post(url, {"confirmed": "yes"}).status_code == 404
    assert ApiToken.objects.filter(pk=testing_key.pk).exists()
