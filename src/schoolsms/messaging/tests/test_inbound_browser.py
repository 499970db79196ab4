"""In headless Chromium: an admin rewords a reply, invites the Pending Opt-In numbers after
reading the count, and reads a number's invitation and keyword history on SMS Status."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from schoolsms import testing
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.inbound import inbound_receive
from schoolsms.messaging.models import ReplyText
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reword_a_reply_invite_pending_numbers_and_read_the_history(
    page: Any, login: Any, live_server: Any, org: Any, admin_user: Any
) -> None:
    testing.create_contact(org, "p1", ["+12175550180"], consent="pending", language="es")
    testing.create_contact(org, "p2", ["+12175550181"], consent="pending")
    testing.create_contact(org, "p3", ["+12175550182"], consent="opted_out")
    login(admin_user.email)

    page.goto(f"{live_server.url}/settings/replies/?language=es")
    box = page.get_by_label("HELP reply")
    box.fill("{program}: ayuda en {help_contact}.")
    page.get_by_role("button", name="Save Spanish texts").click()
    expect(page.get_by_text("HELP reply must tell how to stop (STOP)")).to_be_visible()
    assert not ReplyText.objects.exists()
    page.get_by_label("HELP reply").fill(
        "{program}: ayuda en {help_contact}. Pueden aplicarse tarifas. Responda STOP para salir."
    )
    page.get_by_role("button", name="Save Spanish texts").click()
    expect(page.get_by_text("Spanish texts saved.")).to_be_visible()

    page.goto(f"{live_server.url}/reports/sms-status/")
    page.get_by_role("link", name="text them an opt-in invitation").click()
    expect(page.locator("#invitation-counts")).to_contain_text("Spanish")
    page.get_by_role("button", name="Send the invitation to 2 numbers").click()
    expect(page.get_by_text("Opt-in invitations are going out")).to_be_visible()
    run_worker()

    reply = inbound_receive(
        sender=org.sender,
        inbound=InboundMessage(
            sender_phone="+12175550180", to=org.sender.code, body="ayuda", carrier_id="SMb1"
        ),
        channel="simulator",
    ).reply
    assert reply is None  # "ayuda" is not a keyword
    inbound_receive(
        sender=org.sender,
        inbound=InboundMessage(
            sender_phone="+12175550180", to=org.sender.code, body="y", carrier_id="SMb2"
        ),
        channel="simulator",
    )
    page.goto(f"{live_server.url}/reports/sms-status/")
    page.get_by_label("Phone number").fill("(217) 555-0180")
    page.get_by_role("button", name="Look up").click()
    invitations = page.locator("#invitation-history")
    expect(invitations).to_contain_text("Opt-in invitation (Spanish)")
    expect(invitations).to_contain_text("Sent")
    texts = page.locator("#keyword-history")
    expect(texts).to_contain_text("ayuda")
    expect(texts).to_contain_text("Nothing")
    expect(texts).to_contain_text("Pending Opt-In → Opted In")
