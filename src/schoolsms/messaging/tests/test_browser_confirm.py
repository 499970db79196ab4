"""In Chromium: every action that texts or deletes asks first, with its numbers, and does
nothing until confirmed; a Spanish-speaking family gets the Spanish text end to end; a
broadcast finishing while its page is open shows Complete, when, and no Cancel button."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from schoolsms import testing
from schoolsms.accounts.models import ApiToken, Membership
from schoolsms.accounts.services import api_token_create
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.consent.models import BlockedNumber
from schoolsms.consent.services import number_block
from schoolsms.messaging import services
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult
from schoolsms.messaging.tests.helpers import add_messages, make_audience
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_schedule_cancel_and_delete_ask_first(
    page: Any, login: Any, live_server: Any, org: Any
) -> None:
    make_audience(org)
    testing.create_user(org, "sender@springfield.example.org", "sender")
    draft = services.broadcast_create(organization=org, name="Picture day", text="Smile!")
    login("sender@springfield.example.org")

    # Schedule a draft: the question names the local time and the numbers.
    page.goto(f"{live_server.url}/broadcasts/{draft.pk}/")
    page.get_by_label("Schedule for later").check()
    page.get_by_label("Send at").fill("2099-03-02T07:15")
    page.get_by_role("button", name="Send", exact=True).click()
    question = page.get_by_role("heading", name="Schedule a text to 5 numbers for Mar 2, 2099")
    expect(question).to_be_focused()
    expect(page.get_by_text("1 will be skipped: 1 No SMS number.")).to_be_visible()
    page.get_by_role("button", name="Go back").click()
    draft.refresh_from_db()
    assert draft.status == BroadcastStatus.DRAFT
    page.get_by_label("Schedule for later").check()
    page.get_by_label("Send at").fill("2099-03-02T07:15")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("button", name="Yes, schedule it for Mar 2, 2099, 7:15 AM").click()
    expect(page.locator("#progress [data-role=status]")).to_have_text("Scheduled")

    # Cancel it: the keyboard reaches the confirm button; nothing changes until it is pressed.
    page.get_by_role("button", name="Cancel broadcast").click()
    expect(page.get_by_role("heading", name="Cancel “Picture day”?")).to_be_focused()
    expect(page.get_by_text("It will not go out at Mar 2, 2099, 7:15 AM")).to_be_visible()
    draft.refresh_from_db()
    assert draft.status == BroadcastStatus.SCHEDULED
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Yes, cancel the broadcast")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#progress [data-role=status]")).to_have_text("Canceled")

    # Delete a draft.
    other = services.broadcast_create(organization=org, name="Fire drill", text="Drill at 10")
    page.goto(f"{live_server.url}/broadcasts/{other.pk}/")
    expect(page.get_by_role("button", name="Cancel broadcast")).to_have_count(0)
    page.get_by_role("button", name="Delete draft").click()
    expect(page.get_by_role("heading", name="Delete the draft “Fire drill”?")).to_be_visible()
    page.get_by_role("button", name="Yes, delete the draft").click()
    expect(page.get_by_text("Deleted the draft “Fire drill”.")).to_be_visible()
    assert not Broadcast.objects.filter(pk=other.pk).exists()


def test_revoke_and_unblock_ask_first(page: Any, login: Any, live_server: Any, org: Any) -> None:
    admin = testing.create_user(org, "office@springfield.example.org", "admin")
    api_token_create(user=admin, name="SIS sync")
    number_block(organization=org, phone="+12175550142", reason="Asked by phone")
    login("office@springfield.example.org")

    page.goto(f"{live_server.url}/settings/tokens/")
    page.get_by_role("button", name="Revoke SIS sync").click()
    expect(page.get_by_role("heading", name="Revoke the token “SIS sync”")).to_be_focused()
    assert ApiToken.objects.exists()
    page.get_by_role("button", name="Yes, revoke “SIS sync”").click()
    expect(page.get_by_text("The token is revoked")).to_be_visible()
    assert not ApiToken.objects.exists()

    page.goto(f"{live_server.url}/contacts/blocked/")
    page.get_by_role("button", name="Unblock (217) 555-0142").click()
    expect(page.get_by_role("heading", name="Unblock (217) 555-0142?")).to_be_focused()
    assert BlockedNumber.objects.exists()
    page.get_by_role("button", name="Yes, unblock (217) 555-0142").click()
    expect(page.get_by_text("(217) 555-0142 is unblocked.")).to_be_visible()
    assert not BlockedNumber.objects.exists()

    # Removing a member: "No" changes nothing, "Yes" removes them.
    leaving = "leaving@springfield.example.org"
    testing.create_user(org, leaving, "sender")
    page.goto(f"{live_server.url}/settings/users/")
    page.get_by_role("button", name=f"Remove {leaving}").click()
    expect(page.get_by_role("heading", name=f"Remove {leaving} from")).to_be_focused()
    page.get_by_role("button", name="No, keep them").click()
    expect(page.get_by_role("button", name=f"Remove {leaving}")).to_be_visible()
    assert Membership.objects.filter(user__email=leaving).exists()
    page.get_by_role("button", name=f"Remove {leaving}").click()
    page.get_by_role("button", name=f"Yes, remove {leaving}").click()
    expect(page.get_by_text(f"{leaving} is no longer a member")).to_be_visible()
    assert not Membership.objects.filter(user__email=leaving).exists()


def test_a_spanish_family_gets_the_spanish_text(
    page: Any, login: Any, live_server: Any, org: Any
) -> None:
    testing.create_contact(org, "E1", ["+12025550101"], consent="opted_in", language="en")
    testing.create_contact(org, "S1", ["+12025550102"], consent="opted_in", language="es")
    testing.create_user(org, "sender@springfield.example.org", "sender")
    login("sender@springfield.example.org")
    page.goto(f"{live_server.url}/broadcasts/new/")
    page.get_by_label("Name").fill("Snow day")
    page.get_by_label("Message in English").fill("School is closed today.")
    spanish = page.get_by_label("Message in Español")
    spanish.fill("La escuela está cerrada hoy. ¡Abríguense!")
    # Its own counter: "á" and "í" are not GSM-7, so the Spanish text is UCS-2 (one segment
    # still), while the English one stays GSM-7.
    expect(page.locator("#text-check-es [data-role=segments]")).to_have_text("1")
    expect(page.locator("#text-check-es")).to_have_attribute("data-encoding", "UCS-2")
    expect(page.locator("#text-check-es .forcing-list")).to_contain_text("U+00E1")
    expect(page.locator("#text-check")).to_have_attribute("data-encoding", "GSM-7")
    page.get_by_role("button", name="Send now").click()
    page.get_by_role("button", name="Yes, text 2 numbers now").click()
    expect(page.get_by_role("heading", name="Snow day")).to_be_visible()

    run_worker()
    bodies = dict(SimulatedMessage.objects.values_list("to", "body"))
    assert bodies == {
        "+12025550101": "School is closed today.",
        "+12025550102": "La escuela está cerrada hoy. ¡Abríguense!",
    }
    page.goto(f"{live_server.url}/reports/sms-log/")
    row = page.locator("tbody tr", has_text="(202) 555-0102")
    if not row.count():  # the log shows numbers as stored where it has not been reformatted
        row = page.locator("tbody tr", has_text="+12025550102")
    expect(row.locator("[data-role=language]")).to_have_text("Español")


def test_a_broadcast_finishing_while_open_shows_complete_without_reload(
    page: Any, login: Any, live_server: Any, org: Any
) -> None:
    testing.create_user(org, "sender@springfield.example.org", "sender")
    broadcast = services.broadcast_create(organization=org, name="Lunch", text="Pizza today")
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    add_messages(broadcast, DeliveryResult.SENT, n=2)
    login("sender@springfield.example.org")
    page.goto(f"{live_server.url}/broadcasts/{broadcast.pk}/")
    expect(page.get_by_role("button", name="Cancel broadcast")).to_be_visible()
    finished = timezone.now()
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=BroadcastStatus.COMPLETE, completed_at=finished
    )
    progress = page.locator("#progress")
    expect(progress.locator("[data-role=status]")).to_have_text("Complete", timeout=10000)
    expect(progress.locator("[data-role=completed]")).to_contain_text("Completed")
    expect(page.get_by_role("button", name="Cancel broadcast")).to_have_count(0)
