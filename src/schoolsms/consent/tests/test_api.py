"""The consent API: lookup with history, block and unblock, roles and organization scoping."""

from __future__ import annotations

from typing import Any

import pytest

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.consent.models import BlockedNumber, ConsentRecord
from schoolsms.consent.services import consent_change

pytestmark = pytest.mark.django_db


def _auth(user: Any) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user)}"}


def test_lookup_in_any_format_with_history(client: Any, admin_user: Any, org: Any) -> None:
    consent_change(sender=org.sender, phone="+12175550142", new_status="pending", source="import")
    consent_change(
        sender=org.sender,
        phone="+12175550142",
        new_status="opted_in",
        source="keyword",
        text="Y",
    )
    response = client.get("/api/v1/consent/(217) 555-0142", **_auth(admin_user))
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "+12175550142" and body["sender"] == "67587"
    assert (body["status"], body["status_label"], body["blocked"]) == (
        "opted_in",
        "Opted In",
        False,
    )
    assert [
        (e["old_status"], e["new_status"], e["source"], e["text"]) for e in body["history"]
    ] == [
        (None, "pending", "import", ""),
        ("pending", "opted_in", "keyword", "Y"),
    ]


def test_lookup_of_an_unknown_number_and_a_bad_one(client: Any, admin_user: Any) -> None:
    auth = _auth(admin_user)
    body = client.get("/api/v1/consent/+12175550199", **auth).json()
    assert (body["status"], body["history"]) == (None, [])
    bad = client.get("/api/v1/consent/hello", **auth)
    assert bad.status_code == 422
    assert "phone" in bad.json()["detail"]


def test_consent_follows_the_sender_not_the_organization(
    client: Any, admin_user: Any, org: Any, other_org: Any
) -> None:
    # Shelbyville texts from another short code: its opt-out is not Springfield's.
    consent_change(
        sender=other_org.sender, phone="+12175550142", new_status="opted_out", source="keyword"
    )
    body = client.get("/api/v1/consent/+12175550142", **_auth(admin_user)).json()
    assert body["status"] is None


def test_block_and_unblock(client: Any, admin_user: Any, org: Any) -> None:
    auth = _auth(admin_user)
    consent_change(sender=org.sender, phone="+12175550142", new_status="opted_in", source="admin")
    response = client.post(
        "/api/v1/consent/block",
        {"phone": "217.555.0142", "reason": "wrong family"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200
    assert response.json() == {
        "organization": "springfield",
        "phone": "+12175550142",
        "blocked": True,
        "changed": True,
    }
    blocked = BlockedNumber.objects.get()
    assert (blocked.reason, blocked.created_by) == ("wrong family", admin_user)
    assert ConsentRecord.objects.get().status == "opted_in"
    assert client.get("/api/v1/consent/+12175550142", **auth).json()["blocked"] is True
    again = client.post(
        "/api/v1/consent/block", {"phone": "+12175550142"}, content_type="application/json", **auth
    )
    assert again.json()["changed"] is False
    unblock = client.post(
        "/api/v1/consent/unblock",
        {"phone": "+12175550142"},
        content_type="application/json",
        **auth,
    )
    assert unblock.json()["blocked"] is False and unblock.json()["changed"] is True
    assert not BlockedNumber.objects.exists()


@pytest.mark.parametrize("role", ["sender", "viewer"])
def test_only_admins_block(client: Any, org: Any, role: str) -> None:
    user = testing.create_user(org, f"{role}@springfield.example.org", role)
    auth = _auth(user)
    response = client.post(
        "/api/v1/consent/block", {"phone": "+12175550142"}, content_type="application/json", **auth
    )
    assert response.status_code == 403
    assert not BlockedNumber.objects.exists()
    assert client.get("/api/v1/consent/+12175550142", **auth).status_code == 200


def test_cannot_block_for_another_organization(
    client: Any, admin_user: Any, other_org: Any
) -> None:
    response = client.post(
        "/api/v1/consent/block?org=shelbyville",
        {"phone": "+12175550142"},
        content_type="application/json",
        **_auth(admin_user),
    )
    assert response.status_code == 404
    assert not BlockedNumber.objects.exists()
