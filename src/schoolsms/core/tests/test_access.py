"""Who sees what: log-in, tabs by role, organization switching and scoping."""

from __future__ import annotations

import re
from typing import Any

import pytest

from schoolsms import testing

pytestmark = pytest.mark.django_db


def _tabs(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main" class="tabs">(.*?)</nav>', html, re.S)
    assert nav, "the tab bar is missing"
    return re.findall(r">([A-Z][a-z]+)</a>", nav.group(1))


def test_pages_need_a_login(client: Any, org: Any) -> None:
    for url in ("/", "/contacts/", "/contacts/blocked/", "/settings/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("role", "tabs"),
    [
        ("admin", ["Broadcasts", "Contacts", "Reports", "Reminders", "Settings"]),
        ("sender", ["Broadcasts", "Contacts", "Reports", "Reminders"]),
        ("viewer", ["Contacts", "Reports"]),
    ],
)
def test_tabs_follow_the_role(client: Any, org: Any, role: str, tabs: list[str]) -> None:
    client.force_login(testing.create_user(org, f"{role}@springfield.example.org", role))
    html = client.get("/contacts/").content.decode()
    assert _tabs(html) == tabs
    assert 'aria-current="page">Contacts' in html
    assert 'class="skip-link" href="#main"' in html


@pytest.mark.parametrize("role", ["sender", "viewer"])
def test_admin_pages_refuse_other_roles(client: Any, org: Any, role: str) -> None:
    client.force_login(testing.create_user(org, f"{role}@springfield.example.org", role))
    for url in ("/settings/", "/settings/users/", "/settings/tokens/", "/contacts/import/"):
        assert client.get(url).status_code == 403, url
    refused = client.post("/contacts/blocked/add/", {"phone": "+12175550142"})
    assert refused.status_code == 403
    # Read-only contacts: the list works, without admin buttons.
    html = client.get("/contacts/blocked/").content.decode()
    assert "Block number" not in html


def test_another_organizations_contact_is_404(admin_client: Any, other_org: Any) -> None:
    theirs = testing.create_contact(other_org, "T-1", ["+12175550160"])
    assert admin_client.get(f"/contacts/{theirs.pk}/").status_code == 404
    listing = admin_client.get("/contacts/", {"q": "T-1"})
    assert listing.context["page"].paginator.count == 0


def test_switching_organization(client: Any, admin_user: Any, org: Any, other_org: Any) -> None:
    testing.create_user(other_org, admin_user.email, "viewer")
    theirs = testing.create_contact(other_org, "T-1", first_name="Tom")
    admin_user.refresh_from_db()
    client.force_login(admin_user)
    client.post("/org/switch/", {"organization": org.pk})
    html = client.get("/contacts/").content.decode()
    assert 'id="org-switch"' in html and "Shelbyville District" in html
    assert client.get(f"/contacts/{theirs.pk}/").status_code == 404

    response = client.post(
        "/org/switch/", {"organization": other_org.pk, "next": f"/contacts/{theirs.pk}/"}
    )
    assert response["Location"] == "/contacts/"  # the same tab, not the other org's object
    assert client.get(f"/contacts/{theirs.pk}/").status_code == 200
    # A viewer there: no Settings tab.
    assert _tabs(client.get("/contacts/").content.decode()) == ["Contacts", "Reports"]


def test_cannot_switch_into_a_foreign_organization(
    admin_client: Any, org: Any, other_org: Any
) -> None:
    admin_client.post("/org/switch/", {"organization": other_org.pk})
    html = admin_client.get("/contacts/").content.decode()
    assert '<li class="org-name">Springfield District</li>' in html


def test_home_sends_each_role_to_its_first_tab(client: Any, org: Any) -> None:
    client.force_login(testing.create_user(org, "v@springfield.example.org", "viewer"))
    target = client.get("/")["Location"]
    assert target in ("/reports/", "/contacts/")


def test_api_docs_and_schema_work_offline(client: Any) -> None:
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/organizations",
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/contacts/import",
        "/api/v1/contacts/imports/{job_id}",
        "/api/v1/consent/{phone}",
        "/api/v1/consent/block",
        "/api/v1/consent/unblock",
    ):
        assert path in schema["paths"], path


def test_viewer_reads_a_contact_without_admin_buttons(client: Any, org: Any) -> None:
    contact = testing.create_contact(org, "S-1", ["+12175550142"], consent="opted_in")
    client.force_login(testing.create_user(org, "v@springfield.example.org", "viewer"))
    html = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Opted In" in html
    assert "Block (217) 555-0142" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/contacts/",
        "/contacts/blocked/",
        "/contacts/import/",
        "/settings/",
        "/settings/users/",
        "/settings/tokens/",
    ],
)
def test_every_visible_input_has_a_label(admin_client: Any, org: Any, url: str) -> None:
    testing.create_user(org, "v@springfield.example.org", "viewer")  # a row with a role select
    html = admin_client.get(url).content.decode()
    labels = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    fields = re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)
    visible = [f for f in fields if 'type="hidden"' not in f]
    assert visible, "no form fields on the page"
    for field in visible:
        match = re.search(r'\bid="([^"]+)"', field)
        assert match and match.group(1) in labels, f"unlabelled field on {url}: {field}"
