"""SMS Status lookup: the number's keyword history (what was texted, when, what changed), on the
page, in the CLI and in the API."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.inbound import inbound_receive

pytestmark = pytest.mark.django_db
PHONE = "+12175550170"


def _text(org: Any, body: str, sid: str, phone: str = PHONE) -> None:
    inbound_receive(
        sender=org.sender,
        inbound=InboundMessage(sender_phone=phone, to=org.sender.code, body=body, carrier_id=sid),
        channel="twilio",
    )


def test_lookup_lists_what_was_texted_when_and_what_it_changed(admin_client: Any, org: Any) -> None:
    testing.create_contact(org, "k1", [PHONE], consent="pending")
    _text(org, "Y", "SM1")
    _text(org, "what time is pickup?", "SM2")
    _text(org, "Please stop texting me", "SM3")
    _text(org, "STOP", "SM4")
    html = admin_client.get("/reports/sms-status/", {"number": "2175550170"}).content.decode()
    table = html.split('id="keyword-history"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 4
    assert "<td>Y</td><td>Opt-in</td><td>Pending Opt-In → Opted In</td>" in rows[0]
    assert "<td>what time is pickup?</td><td>Other text</td><td>Nothing</td>" in rows[1]
    assert "<td>Please stop texting me</td><td>Opt-out</td><td>Opted In → Opted Out</td>" in rows[2]
    assert "<td>STOP</td><td>Opt-out</td><td>Nothing</td><td>—</td>" in rows[3]


def test_a_stranger_who_texted_help_can_be_looked_up(admin_client: Any, org: Any) -> None:
    _text(org, "help", "SM9", phone="+12175550171")
    response = admin_client.get("/reports/sms-status/", {"number": "2175550171"})
    assert response.status_code == 200
    assert "<td>help</td><td>Help</td><td>Nothing</td>" in response.content.decode()


def test_cli_and_api_show_the_keyword_history(client: Any, org: Any) -> None:
    testing.create_contact(org, "k1", [PHONE], consent="opted_in")
    _text(org, "stop", "SM5")
    out = io.StringIO()
    call_command("report", "sms-status", "--org", org.slug, "--lookup", PHONE, "--format", "json",
                 stdout=out)  # fmt: skip
    found = json.loads(out.getvalue())
    [texted] = found["keyword_history"]
    assert (texted["text"], texted["keyword"], texted["changed"], texted["message_id"]) == (
        "stop",
        "Opt-out",
        "Opted In → Opted Out",
        "SM5",
    )
    table = io.StringIO()
    call_command("report", "sms-status", "--org", org.slug, "--lookup", PHONE, stdout=table)
    assert "'stop' (Opt-out): Opted In → Opted Out" in table.getvalue()
    user = testing.create_user(org, "viewer@springfield.example.org", "viewer")
    key = api_token_create(user=user)
    api = client.get(
        "/api/v1/reports/sms-status/lookup",
        {"number": PHONE},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 200, api.content
    assert api.json()["keyword_history"][0]["changed"] == "Opted In → Opted Out"
