"""Memberships with consent: an admin invites, the person accepts while logged in; nothing
changes for them before, the admin cannot tell whether the account existed, admins remove
members (web and CLI), and an API token keeps acting in the organization it was made for."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from schoolsms import testing
from schoolsms.accounts.emails import invitation_email_task
from schoolsms.accounts.models import ApiToken, Invitation, Membership
from schoolsms.accounts.services import api_token_create

OUTSIDER = "pat@shelbyville.example.org"


@pytest.fixture
def outsider(other_org: Any) -> User:
    """An admin of Shelbyville, with an API token made for Shelbyville."""
    return testing.create_user(other_org, OUTSIDER, "admin")


def _invite(admin_client: Any, email: str, role: str = "admin") -> Any:
    return admin_client.post("/settings/users/", {"email": email, "role": role}, follow=True)


def _notice(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _deliver_invitations(django_capture_on_commit_callbacks: Any) -> None:
    """Run the queued email tasks the way the worker does."""
    for invitation in Invitation.objects.all():
        invitation_email_task.call(invitation.pk)


def test_inviting_an_existing_account_changes_nothing_until_accepted(
    admin_client: Any, org: Any, other_org: Any, outsider: User
) -> None:
    key = api_token_create(user=outsider)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    before = api.get("/api/v1/organizations").json()

    _invite(admin_client, OUTSIDER)
    assert not Membership.objects.filter(user=outsider, organization=org).exists()

    # What the invited person sees is unchanged: same landing organization, same API answers.
    person = Client()
    person.force_login(outsider)
    page = person.get("/broadcasts/")
    assert page.context["current_org"] == other_org
    assert "1 pending invitation" in page.content.decode()
    assert api.get("/api/v1/organizations").json() == before
    assert api.get("/api/v1/broadcasts/").status_code == 200

    # Accepting makes them a member; their token still acts in Shelbyville only, without ?org=.
    invitation = Invitation.objects.get(user=outsider)
    accepted = person.post(f"/settings/invitations/{invitation.pk}/", {"answer": "accept"})
    assert accepted.status_code == 302
    assert Membership.objects.get(user=outsider, organization=org).role == "admin"
    assert not Invitation.objects.exists()
    assert api.get("/api/v1/organizations").json() == before
    assert api.get("/api/v1/broadcasts/").status_code == 200
    assert api.get("/api/v1/broadcasts/?org=springfield").status_code == 404


def test_the_admin_cannot_tell_whether_an_account_exists(
    admin_client: Any, org: Any, outsider: User
) -> None:
    existing = _invite(admin_client, OUTSIDER, "viewer")
    unknown = _invite(admin_client, "nobody@elsewhere.example.org", "viewer")
    assert existing.status_code == unknown.status_code == 200
    assert _notice(existing).replace(OUTSIDER, "X") == _notice(unknown).replace(
        "nobody@elsewhere.example.org", "X"
    )
    assert "Invitation sent to" in _notice(existing)
    shown = [existing.content.decode(), unknown.content.decode()]
    assert "key-once" not in shown[0] and "key-once" not in shown[1]  # no password shown
    # Neither got a membership; both are listed as invitations not yet accepted.
    assert Membership.objects.filter(organization=org).count() == 1
    assert Invitation.objects.filter(organization=org).count() == 2


def test_a_new_account_chooses_its_password_from_the_email_then_accepts(
    admin_client: Any, org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        _invite(admin_client, "new@springfield.example.org", "sender")
    _deliver_invitations(django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == ["new@springfield.example.org"]
    link = re.search(r"http://[^\s]+/password/set/[^\s]+/", message.body)
    assert link is not None
    person = Client()
    path = urlsplit(link.group(0)).path
    form_page = person.get(path, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = person.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
        follow=True,
    )
    assert done.status_code == 200
    assert "Accept" in done.content.decode()
    user = User.objects.get(username="new@springfield.example.org")
    assert user.check_password("a-long-new-passphrase")
    assert not Membership.objects.filter(user=user).exists()  # not before accepting
    invitation = Invitation.objects.get(user=user)
    person.post(f"/settings/invitations/{invitation.pk}/", {"answer": "accept"})
    assert Membership.objects.get(user=user, organization=org).role == "sender"


def test_an_existing_account_gets_no_password_link(
    admin_client: Any, outsider: User, django_capture_on_commit_callbacks: Any
) -> None:
    _invite(admin_client, OUTSIDER)
    _deliver_invitations(django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert "/password/set/" not in message.body
    assert "/settings/invitations/" in message.body


def test_declining_and_withdrawing(admin_client: Any, org: Any, outsider: User) -> None:
    _invite(admin_client, OUTSIDER)
    person = Client()
    person.force_login(outsider)
    invitation = Invitation.objects.get()
    person.post(f"/settings/invitations/{invitation.pk}/", {"answer": "decline"})
    assert not Invitation.objects.exists()
    assert not Membership.objects.filter(user=outsider, organization=org).exists()
    _invite(admin_client, OUTSIDER)
    invitation = Invitation.objects.get()
    url = f"/settings/users/invitations/{invitation.pk}/withdraw/"
    asked = admin_client.post(url).content.decode()
    assert f"Withdraw the invitation to {OUTSIDER}?" in asked
    assert Invitation.objects.exists()  # nothing happens before the yes
    admin_client.post(url, {"confirmed": "yes"})
    assert not Invitation.objects.exists()


def test_nobody_answers_someone_elses_invitation(
    admin_client: Any, org: Any, outsider: User, other_org: Any
) -> None:
    _invite(admin_client, OUTSIDER)
    invitation = Invitation.objects.get()
    intruder = testing.create_user(other_org, "eve@shelbyville.example.org", "viewer")
    person = Client()
    person.force_login(intruder)
    response = person.post(f"/settings/invitations/{invitation.pk}/", {"answer": "accept"})
    assert response.status_code == 404
    assert not Membership.objects.filter(organization=org, user=intruder).exists()
    # Another organization's admin cannot withdraw it either.
    other_admin = Client()
    other_admin.force_login(outsider)
    assert (
        other_admin.post(f"/settings/users/invitations/{invitation.pk}/withdraw/").status_code
        == 404
    )


def test_admin_removes_a_member_and_their_token_for_it_stops(
    admin_client: Any, org: Any, admin_user: User
) -> None:
    member = testing.create_user(org, "leaving@springfield.example.org", "sender")
    key = api_token_create(user=member)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/broadcasts/").status_code == 200
    asked = admin_client.post("/settings/users/remove/", {"user_id": member.pk}).content.decode()
    assert "Remove leaving@springfield.example.org from Springfield" in asked
    assert "API tokens they made for it stop working" in asked
    assert Membership.objects.filter(user=member).exists()  # nothing happens before the yes
    response = admin_client.post(
        "/settings/users/remove/", {"user_id": member.pk, "confirmed": "yes"}, follow=True
    )
    assert "no longer a member" in _notice(response)
    assert not Membership.objects.filter(user=member).exists()
    assert api.get("/api/v1/broadcasts/").status_code == 401
    # The last admin stays.
    refused = admin_client.post(
        "/settings/users/remove/", {"user_id": admin_user.pk, "confirmed": "yes"}, follow=True
    )
    assert "at least one admin" in _notice(refused)
    assert Membership.objects.filter(user=admin_user).exists()


def test_removing_a_member_of_another_organization_is_not_found(
    admin_client: Any, outsider: User
) -> None:
    response = admin_client.post("/settings/users/remove/", {"user_id": outsider.pk})
    assert response.status_code == 404
    assert Membership.objects.filter(user=outsider).exists()


def test_cli_user_remove(org: Any) -> None:
    testing.create_user(org, "leaving@springfield.example.org", "viewer")
    out = io.StringIO()
    call_command(
        "user",
        "remove",
        "--org",
        org.slug,
        "--email",
        "Leaving@springfield.example.org",
        stdout=out,
    )
    assert "no longer a member of springfield" in out.getvalue()
    assert not Membership.objects.filter(user__username="leaving@springfield.example.org").exists()
    with pytest.raises(CommandError, match=re.escape("--email: 'nobody@x.org' is not a member")):
        call_command("user", "remove", "--org", org.slug, "--email", "nobody@x.org")


def test_tokens_are_made_for_one_organization(org: Any, other_org: Any) -> None:
    both = testing.create_user(org, "both@example.org", "admin")
    Membership.objects.create(user=both, organization=other_org, role="viewer")
    out = io.StringIO()
    call_command(
        "token", "create", "--email", "both@example.org", "--org", "shelbyville", stdout=out
    )
    key = out.getvalue().strip()
    assert ApiToken.objects.get().organization == other_org
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    orgs = api.get("/api/v1/organizations").json()
    assert [o["slug"] for o in orgs] == ["shelbyville"]
    assert api.get("/api/v1/broadcasts/").status_code == 200  # no "org is required"
    assert api.get("/api/v1/broadcasts/?org=springfield").status_code == 404
    with pytest.raises(CommandError, match="--org: no organization"):
        call_command("token", "create", "--email", "both@example.org", "--org", "nowhere")


def test_web_tokens_act_in_the_organization_they_were_made_in(
    admin_client: Any, org: Any, admin_user: User, other_org: Any
) -> None:
    Membership.objects.create(user=admin_user, organization=other_org, role="admin")
    response = admin_client.post("/settings/tokens/", {"name": "SIS"}, follow=True)
    key = response.context["new_key"]["key"]
    token = ApiToken.objects.get()
    assert token.organization in (org, other_org)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/broadcasts/").status_code == 200
