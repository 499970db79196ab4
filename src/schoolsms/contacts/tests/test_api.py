"""The contacts API through the real HTTP stack with a real token: scoping, search, import."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from schoolsms import testing
from schoolsms.accounts.services import api_token_create, user_create
from schoolsms.contacts.models import Contact

pytestmark = pytest.mark.django_db


def _auth(user: Any) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user)}"}


@pytest.fixture
def ana(org: Any) -> Contact:
    return testing.create_contact(
        org,
        "S-1",
        ["+12175550142", ("+12175550143", False)],
        first_name="Ana",
        last_name="García",
        consent="opted_in",
    )


@pytest.fixture
def stranger(other_org: Any) -> Contact:
    return testing.create_contact(other_org, "T-1", ["+12175550160"], first_name="Tom")


def test_no_token_or_a_bad_one_is_refused(client: Any, ana: Any) -> None:
    assert client.get("/api/v1/contacts").status_code == 401
    bad = {"HTTP_AUTHORIZATION": "Bearer ssms_nope"}
    assert client.get("/api/v1/contacts", **bad).status_code == 401


def test_list_defaults_to_the_only_organization(
    client: Any, admin_user: Any, ana: Any, stranger: Any
) -> None:
    response = client.get("/api/v1/contacts", **_auth(admin_user))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["page"] == 1 and body["page_size"] == 50
    (contact,) = body["results"]
    assert contact["external_id"] == "S-1" and contact["organization"] == "springfield"
    assert contact["numbers"] == [
        {
            "position": 1,
            "phone": "+12175550142",
            "sms_enabled": True,
            "consent_status": "opted_in",
            "consent_status_label": "Opted In",
            "consent_changed_at": contact["numbers"][0]["consent_changed_at"],
            "blocked": False,
        },
        {
            "position": 2,
            "phone": "+12175550143",
            "sms_enabled": False,
            "consent_status": None,
            "consent_status_label": "No consent record",
            "consent_changed_at": None,
            "blocked": False,
        },
    ]


def test_search_and_paging(client: Any, admin_user: Any, org: Any, ana: Any) -> None:
    for i in range(5):
        testing.create_contact(org, f"K{i}", first_name="Kim", last_name=f"Lee{i}")
    auth = _auth(admin_user)
    by_phone = client.get("/api/v1/contacts", {"q": "(217) 555-0143"}, **auth).json()
    assert [c["external_id"] for c in by_phone["results"]] == ["S-1"]
    page2 = client.get("/api/v1/contacts", {"q": "kim", "page": 2, "page_size": 2}, **auth).json()
    assert page2["count"] == 5
    assert [c["last_name"] for c in page2["results"]] == ["Lee2", "Lee3"]
    assert client.get("/api/v1/contacts", {"page_size": 0}, **auth).status_code == 422
    assert client.get("/api/v1/contacts", {"role": "pirate"}, **auth).status_code == 422


def test_several_organizations_need_org(
    client: Any, admin_user: Any, other_org: Any, ana: Any, stranger: Any
) -> None:
    user_create(organization=other_org, email=admin_user.email, role="viewer")
    auth = _auth(admin_user)
    missing = client.get("/api/v1/contacts", **auth)
    assert missing.status_code == 400
    assert "org is required" in missing.json()["detail"]
    shelby = client.get("/api/v1/contacts", {"org": "shelbyville"}, **auth).json()
    assert [c["external_id"] for c in shelby["results"]] == ["T-1"]
    assert client.get("/api/v1/contacts", {"org": "nowhere"}, **auth).status_code == 404


def test_a_page_beyond_what_the_database_counts_is_empty(
    client: Any, admin_user: Any, ana: Any
) -> None:
    query = {"page": 2**63 - 1, "page_size": 500}
    response = client.get("/api/v1/contacts", query, **_auth(admin_user))
    assert response.status_code == 200
    assert response.json()["results"] == [] and response.json()["count"] == 1


def test_another_organizations_contact_is_404(
    client: Any, admin_user: Any, ana: Any, stranger: Any
) -> None:
    auth = _auth(admin_user)
    mine = client.get(f"/api/v1/contacts/{ana.pk}", **auth)
    assert mine.status_code == 200 and mine.json()["first_name"] == "Ana"
    assert client.get(f"/api/v1/contacts/{stranger.pk}", **auth).status_code == 404
    assert client.get("/api/v1/contacts", {"org": "shelbyville"}, **auth).status_code == 404


def test_import_summary_and_row_errors(client: Any, admin_user: Any, org: Any) -> None:
    auth = _auth(admin_user)
    good = SimpleUploadedFile(
        "r.csv", b"external_id,first_name,last_name,phone1\nA1,Ana,Diaz,217-555-0170\n"
    )
    response = client.post("/api/v1/contacts/import", {"file": good}, **auth)
    assert response.status_code == 200
    assert response.json() == {
        "rows": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "numbers": 1,
        "pending_created": 1,
    }
    bad = SimpleUploadedFile(
        "r.csv", b"external_id,first_name,last_name,phone1\nA1,Ana,Ruiz,217-555-0170\nA2,B,C,12\n"
    )
    response = client.post("/api/v1/contacts/import", {"file": bad}, **auth)
    assert response.status_code == 422
    body = response.json()
    assert [(e["line"], e["field"], e["value"]) for e in body["errors"]] == [(3, "phone1", "12")]
    assert Contact.objects.get(external_id="A1").last_name == "Diaz"  # nothing changed


def test_import_needs_the_admin_role(client: Any, org: Any) -> None:
    sender = testing.create_user(org, "sender@springfield.example.org", "sender")
    upload = SimpleUploadedFile("r.csv", b"external_id,first_name,last_name\nA1,Ana,Diaz\n")
    response = client.post("/api/v1/contacts/import", {"file": upload}, **_auth(sender))
    assert response.status_code == 403
    assert not Contact.objects.exists()
