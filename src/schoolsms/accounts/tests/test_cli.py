"""`schoolsms org create`, `user create` and `token create`."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from schoolsms import testing
from schoolsms.accounts.models import Membership, Organization, Sender
from schoolsms.accounts.selectors import user_for_api_key

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_org_create_with_every_option() -> None:
    out = run(
        "org", "create", "--slug", "lincoln", "--name", "Lincoln Elementary",
        "--sender", "67587", "--program-name", "Lincoln Alerts",
        "--help-contact", "office@lincoln.example.org", "--timezone", "America/Chicago",
        "--quiet-hours", "20:00-07:30",
    )  # fmt: skip
    assert "Created organization lincoln (Lincoln Elementary)" in out
    org = Organization.objects.select_related("sender").get(slug="lincoln")
    assert org.timezone == "America/Chicago"
    assert (org.quiet_hours_start.isoformat(), org.quiet_hours_end.isoformat()) == (  # type: ignore[union-attr]
        "20:00:00",
        "07:30:00",
    )
    assert (org.sender.code, org.sender.program_name, org.sender.help_contact) == (
        "67587",
        "Lincoln Alerts",
        "office@lincoln.example.org",
    )


def test_an_existing_sender_code_is_shared_not_duplicated() -> None:
    run("org", "create", "--slug", "a", "--name", "A", "--sender", "67587")
    out = run(
        "org", "create", "--slug", "b", "--name", "B", "--sender", "67587", "--quiet-hours", "off"
    )
    assert "Sender 67587 is shared with: a" in out
    assert Sender.objects.count() == 1
    b = Organization.objects.get(slug="b")
    assert not b.has_quiet_hours


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--quiet-hours", "9pm-8am"], "quiet hours '9pm-8am' must look like 21:00-08:00"),
        (["--sender", "call-us"], "--sender: A sender is a short code or a phone number."),
    ],
)
def test_org_create_refuses_bad_input(args: list[str], message: str) -> None:
    base = {"--slug": "a", "--name": "A", "--sender": "67587"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(".", r"\.")):
        run("org", "create", *[x for pair in base.items() for x in pair])
    assert not Organization.objects.exists()


def test_org_create_refuses_a_taken_slug(org: Any) -> None:
    with pytest.raises(CommandError, match="slug 'springfield' already exists"):
        run("org", "create", "--slug", "springfield", "--name", "X", "--sender", "12345")


def logs_in(client: Any, email: str, password: str) -> bool:
    response = client.post("/login/", {"username": email, "password": password}, follow=True)
    return bool(response.wsgi_request.user.is_authenticated)


def test_user_create_prints_a_generated_password_that_logs_in(org: Any, client: Any) -> None:
    out = run("user", "create", "--org", "springfield", "--email", "Ann@Example.org", "--role",
              "sender")  # fmt: skip
    password = out.split("Password: ")[1].strip()
    assert logs_in(client, "Ann@example.org", password)
    assert Membership.objects.get(user__username="Ann@example.org", organization=org).role == (
        "sender"
    )


def test_user_create_with_a_password_prints_none(org: Any, client: Any) -> None:
    out = run("user", "create", "--org", "springfield", "--email", "bo@example.org", "--role",
              "viewer", "--password", "a-long-enough-pass")  # fmt: skip
    assert "Password" not in out
    again = run("user", "create", "--org", "springfield", "--email", "bo@example.org", "--role",
                "admin")  # fmt: skip
    assert "password unchanged" in again
    assert logs_in(client, "bo@example.org", "a-long-enough-pass")


def test_user_create_refuses_unknown_org_and_bad_email(org: Any) -> None:
    with pytest.raises(CommandError, match="--org: no organization with slug 'nowhere'"):
        run("user", "create", "--org", "nowhere", "--email", "a@b.org", "--role", "admin")
    with pytest.raises(CommandError, match="is not an email address"):
        run("user", "create", "--org", "springfield", "--email", "ann", "--role", "admin")


def test_token_create_prints_a_working_token_once(org: Any) -> None:
    user = testing.create_user(org, "ann@example.org")
    key = run("token", "create", "--email", "ANN@example.org", "--name", "sis sync").strip()
    assert key.startswith("ssms_")
    assert user_for_api_key(key) == user
    assert user.api_tokens.get().name == "sis sync"
    with pytest.raises(CommandError, match=r"no active user 'nobody@example\.org'"):
        run("token", "create", "--email", "nobody@example.org")


@pytest.mark.django_db(transaction=True)
def test_the_console_script_creates_an_org_and_a_user() -> None:
    script = [sys.executable, "-m", "schoolsms"]
    env = testing.subprocess_env()
    done = subprocess.run(
        [*script, "org", "create", "--slug", "lincoln", "--name", "Lincoln", "--sender", "67587"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [*script, "user", "create", "--org", "lincoln", "--email", "x@example.org",
         "--role", "boss"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2  # argparse refuses the role
    assert "invalid choice: 'boss'" in done.stderr
    assert Organization.objects.filter(slug="lincoln").exists()
