"""Pointing a sender at a gateway: `sender configure`, the Settings page, sealed secrets."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from schoolsms import sealing
from schoolsms.carriers import registry
from schoolsms.carriers.selectors import gateway_options

TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"


@pytest.fixture
def example_gateway(monkeypatch: Any) -> None:
    monkeypatch.setitem(
        registry.GATEWAYS,
        "example",
        (
            "schoolsms.carriers.simulator.transport.SimulatorGateway",
            "schoolsms.carriers.tests.example_config",
        ),
    )


def configure(*args: str) -> str:
    out = StringIO()
    call_command("sender", "configure", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_configure_seals_the_secret_and_never_prints_it(org: Any, example_gateway: None) -> None:
    out = configure(
        "--sender", org.sender.code, "--gateway", "example", "--account-sid", "AC123",
        "--auth-token", TOKEN, "--from-number", "+12175550100", "--mps", "30",
    )  # fmt: skip
    org.sender.refresh_from_db()
    stored = org.sender.gateway_options
    assert org.sender.gateway == "example" and org.sender.mps == 30
    assert TOKEN not in str(stored) and sealing.is_sealed(stored["auth_token"])
    assert gateway_options(org.sender)["auth_token"] == TOKEN
    assert stored["window"] == 10  # the declared default
    assert TOKEN not in out and TOKEN[-4:] in out and "30 messages/second" in out
    show = StringIO()
    call_command("sender", "show", "--sender", org.sender.code, stdout=show)
    assert TOKEN not in show.getvalue() and "Account SID: AC123" in show.getvalue()


def test_configure_names_every_missing_or_bad_flag(org: Any, example_gateway: None) -> None:
    err = StringIO()
    with pytest.raises(CommandError, match="exactly one of --messaging-service-sid"):
        call_command(
            "sender", "configure", "--sender", org.sender.code, "--gateway", "example",
            "--account-sid", "XX1", stderr=err,
        )  # fmt: skip
    assert "--account-sid: must start with AC" in err.getvalue()
    assert "--auth-token is required for the example gateway" in err.getvalue()
    org.sender.refresh_from_db()
    assert org.sender.gateway == "simulator"  # nothing saved


def test_changing_one_option_keeps_the_stored_secret(org: Any, example_gateway: None) -> None:
    base = ["--sender", org.sender.code, "--gateway", "example", "--account-sid", "AC1"]
    configure(*base, "--auth-token", TOKEN, "--messaging-service-sid", "MG1")
    configure("--sender", org.sender.code, "--from-number", "+12175550100")
    org.sender.refresh_from_db()
    options = gateway_options(org.sender)
    assert options["auth_token"] == TOKEN and options["from_number"] == "+12175550100"
    assert "messaging_service_sid" not in options  # the one-of group holds one value
    configure("--sender", org.sender.code, "--gateway", "simulator")
    org.sender.refresh_from_db()
    assert org.sender.gateway == "simulator" and org.sender.gateway_options == {}


def test_a_key_rotation_reseals(org: Any, example_gateway: None, settings: Any) -> None:
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SCHOOLSMS_SECRETS_KEY = old
    configure(
        "--sender", org.sender.code, "--gateway", "example", "--account-sid", "AC1",
        "--auth-token", TOKEN, "--from-number", "+12175550100",
    )  # fmt: skip
    settings.SCHOOLSMS_SECRETS_KEY = f"{new},{old}"
    call_command("sender", "reseal", stdout=StringIO())
    settings.SCHOOLSMS_SECRETS_KEY = new
    org.sender.refresh_from_db()
    assert gateway_options(org.sender)["auth_token"] == TOKEN
    settings.SCHOOLSMS_SECRETS_KEY = Fernet.generate_key().decode()
    with pytest.raises(sealing.SecretUnreadable, match="reseal"):
        gateway_options(org.sender)


def test_settings_page_configures_a_gateway(
    admin_client: Any, org: Any, example_gateway: None
) -> None:
    page = admin_client.get("/settings/carrier/?gateway=example")
    assert page.status_code == 200 and "Auth token" in page.content.decode()
    bad = admin_client.post(
        "/settings/carrier/", {"gateway": "example", "mps": "10", "account_sid": "AC1"}
    )
    assert bad.status_code == 400 and "--auth-token is required" in bad.content.decode()
    done = admin_client.post(
        "/settings/carrier/",
        {"gateway": "example", "mps": "10", "account_sid": "AC1", "auth_token": TOKEN,
         "from_number": "+12175550100"},
        follow=True,
    )  # fmt: skip
    body = done.content.decode()
    assert TOKEN not in body and TOKEN[-4:] in body and "Example carrier" in body
    org.sender.refresh_from_db()
    assert gateway_options(org.sender)["auth_token"] == TOKEN


def test_only_admins_see_the_carrier_settings(client: Any, org: Any) -> None:
    from schoolsms import testing

    client.force_login(testing.create_user(org, "viewer@springfield.example.org", "viewer"))
    assert client.get("/settings/carrier/").status_code == 403
