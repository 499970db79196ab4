"""Pointing a sender at an SMSC: `sender configure --gateway smpp` and Settings > Carrier; the
password sealed at rest and never shown back."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from schoolsms import sealing
from schoolsms.carriers.selectors import gateway_options

PASSWORD = "s3cr3tPw"


def configure(*args: str) -> str:
    out = StringIO()
    call_command("sender", "configure", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_configure_smpp_from_the_command_line(org: Any) -> None:
    out = configure(
        "--sender", org.sender.code, "--gateway", "smpp", "--smpp-host", "smsc.example.net",
        "--smpp-port", "2775", "--smpp-system-id", "district", "--smpp-password", PASSWORD,
        "--smpp-system-type", "VMA", "--smpp-source-ton", "3", "--smpp-source-npi", "0",
        "--mps", "30",
    )  # fmt: skip
    org.sender.refresh_from_db()
    stored = org.sender.gateway_options
    assert org.sender.gateway == "smpp" and org.sender.mps == 30
    assert PASSWORD not in str(stored) and sealing.is_sealed(stored["smpp_password"])
    assert gateway_options(org.sender) == {
        "smpp_host": "smsc.example.net",
        "smpp_port": 2775,
        "smpp_system_id": "district",
        "smpp_password": PASSWORD,
        "smpp_system_type": "VMA",
        "smpp_source_ton": 3,
        "smpp_source_npi": 0,
        "smpp_window": 10,  # the default
    }
    show = StringIO()
    call_command("sender", "show", "--sender", org.sender.code, stdout=show)
    for text in (out, show.getvalue()):
        assert PASSWORD not in text and PASSWORD[-4:] not in text
        assert "SMSC host: smsc.example.net" in text and "Window: 10" in text


def test_bad_smpp_flags_are_named_and_nothing_is_saved(org: Any) -> None:
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "sender", "configure", "--sender", org.sender.code, "--gateway", "smpp",
            "--smpp-host", "smsc.example.net", "--smpp-port", "http",
            "--smpp-system-id", "a-system-id-too-long", "--smpp-window", "0", stderr=err,
        )  # fmt: skip
    errors = err.getvalue()
    assert "--smpp-port: a whole number, not 'http'" in errors
    assert "--smpp-system-id: at most 15 characters in SMPP 3.4" in errors
    assert "--smpp-window: must be 1 to 1000" in errors
    org.sender.refresh_from_db()
    assert org.sender.gateway == "simulator"


def test_settings_page_configures_smpp_and_never_shows_the_password(
    admin_client: Any, org: Any
) -> None:
    page = admin_client.get("/settings/carrier/?gateway=smpp")
    assert page.status_code == 200 and "System ID" in page.content.decode()
    fields = {
        "gateway": "smpp", "mps": "20", "smpp_host": "10.0.0.5", "smpp_port": "2775",
        "smpp_system_id": "district", "smpp_password": PASSWORD, "smpp_window": "25",
    }  # fmt: skip
    done = admin_client.post("/settings/carrier/", fields, follow=True)
    assert PASSWORD not in done.content.decode()
    org.sender.refresh_from_db()
    assert gateway_options(org.sender)["smpp_password"] == PASSWORD
    assert gateway_options(org.sender)["smpp_window"] == 25
    # The form again: the password is not put back into the page; left empty, it is kept.
    again = admin_client.get("/settings/carrier/?gateway=smpp").content.decode()
    assert PASSWORD not in again and sealing.is_sealed(org.sender.gateway_options["smpp_password"])
    admin_client.post("/settings/carrier/", {**fields, "smpp_password": "", "smpp_port": "2776"})
    org.sender.refresh_from_db()
    assert gateway_options(org.sender)["smpp_password"] == PASSWORD
    assert gateway_options(org.sender)["smpp_port"] == 2776
