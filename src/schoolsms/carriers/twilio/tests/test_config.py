"""Configuring a sender for Twilio: the exact command, its checks, and a token that is never
shown back in full (command output, Settings page, logs, errors)."""

from __future__ import annotations

import logging
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from schoolsms import sealing
from schoolsms.carriers.selectors import gateway_options
from schoolsms.carriers.services import sender_gateway_configure
from schoolsms.carriers.twilio.config import account_for
from schoolsms.carriers.twilio.tests.conftest import ACCOUNT, TOKEN, twilio_org
from schoolsms.carriers.twilio.tests.fake_twilio import FakeTwilio
from schoolsms.messaging.gateway import OutboundMessage, gateway_for

pytestmark = pytest.mark.django_db
SERVICE = "MG" + "4d" * 16


def sender_cli(*args: str) -> str:
    out, err = StringIO(), StringIO()
    try:
        call_command("sender", *args, stdout=out, stderr=err)
    except CommandError as exc:
        raise CommandError(f"{err.getvalue()}{exc}") from None
    return out.getvalue()


def test_the_documented_configure_command(org: Any) -> None:
    out = sender_cli(
        "configure", "--sender", org.sender.code, "--gateway", "twilio",
        "--account-sid", ACCOUNT, "--auth-token", TOKEN, "--from-number", "+12175550100",
        "--mps", "100",
    )  # fmt: skip
    org.sender.refresh_from_db()
    assert (org.sender.gateway, org.sender.mps) == ("twilio", 100)
    assert sealing.is_sealed(org.sender.gateway_options["auth_token"])
    assert TOKEN not in str(org.sender.gateway_options)
    assert gateway_options(org.sender)["auth_token"] == TOKEN
    assert TOKEN not in out and TOKEN[-4:] in out and ACCOUNT in out
    shown = sender_cli("show", "--sender", org.sender.code)
    assert TOKEN not in shown and "+12175550100" in shown
    # A Messaging Service instead of the number; the token is kept when not given again.
    sender_cli(
        "configure", "--sender", org.sender.code, "--messaging-service-sid", SERVICE
    )  # fmt: skip
    org.sender.refresh_from_db()
    account = account_for(org.sender)
    assert (account.messaging_service_sid, account.from_number) == (SERVICE, "")
    assert account.auth_token == TOKEN
    sender_cli("configure", "--sender", org.sender.code, "--gateway", "simulator")
    org.sender.refresh_from_db()
    assert (org.sender.gateway, org.sender.gateway_options) == ("simulator", {})


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--account-sid", "XX" + "1" * 32], "--account-sid: an Account SID is AC"),
        (["--account-sid", "AC123"], "--account-sid: an Account SID is AC"),
        (["--messaging-service-sid", "MGnope"], "--messaging-service-sid: a Messaging Service"),
        (["--from-number", "(217) 555-0100"], "--from-number: write the number in E.164, as +1"),
        (["--from-number", "+1 555"], "--from-number: "),
        (["--auth-token", "short"], "--auth-token: an auth token"),
        (["--from-number", "+12175550100", "--messaging-service-sid", SERVICE], "exactly one"),
    ],
)
def test_bad_settings_name_the_flag_and_store_nothing(
    org: Any, flags: list[str], message: str
) -> None:
    base = {"--account-sid": ACCOUNT, "--auth-token": TOKEN}
    given = dict(zip(flags[::2], flags[1::2], strict=True))
    if not {"--from-number", "--messaging-service-sid"} & set(given):
        given["--from-number"] = "+12175550100"
    args = [item for pair in {**base, **given}.items() for item in pair]
    with pytest.raises(CommandError, match=re.escape(message)):
        sender_cli("configure", "--sender", org.sender.code, "--gateway", "twilio", *args)
    org.sender.refresh_from_db()
    assert org.sender.gateway == "simulator"
    assert "short" not in str(org.sender.gateway_options)


def test_the_token_is_never_shown_on_the_settings_page(
    admin_client: Any, org: Any, settings: Any
) -> None:
    sender_gateway_configure(
        sender=org.sender,
        gateway="twilio",
        values={"account_sid": ACCOUNT, "auth_token": TOKEN, "from_number": "+12175550100"},
    )
    page = admin_client.get("/settings/carrier/").content.decode()
    assert TOKEN not in page and ACCOUNT in page
    assert TOKEN[-4:] in page  # the last four, so an admin can tell which token is set
    # The addresses to enter in the Twilio console.
    public = settings.SCHOOLSMS_PUBLIC_URL
    assert f"{public}/webhooks/twilio/inbound" in page
    assert f"{public}/webhooks/twilio/status" in page


def test_the_token_stays_out_of_logs_and_errors(fake: FakeTwilio, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    org = twilio_org()
    fake.script["+12175550101"] = "http_500"
    gateway = gateway_for(org.sender)
    outcomes = gateway.send_batch(
        [
            OutboundMessage(message_id=1, to="+12175550101", sender="67587", body="Hi"),
            OutboundMessage(message_id=2, to="not-a-number", sender="67587", body="Hi"),
        ]
    )
    assert [o.kind for o in outcomes] == ["transient", "refused"]
    text = caplog.text + repr(gateway.account) + "".join(o.detail for o in outcomes)
    assert TOKEN not in text
