"""An admin previews and sends the reminder in a real browser; the real worker sends the mail."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from schoolsms import testing
from schoolsms.reminders.tests.factories import build_people

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_admin_previews_and_sends_reminders(
    org: Any, page: Any, login: Any, live_server: Any, smtp_server: Any
):
    build_people(org)
    testing.create_user(org, "admin@springfield.example.org", "admin")
    login("admin@springfield.example.org")

    page.get_by_role("link", name="Reminders").click()  # click 1: the tab
    page.wait_for_url(f"{live_server.url}/reminders/")
    assert page.locator('[data-role="recipient-count"]').inner_text() == "2"

    preview = page.frame_locator('iframe[title="Reminder email in English"]')
    assert "Text Y to 67587" in preview.locator("body").inner_text()
    spanish = page.frame_locator('iframe[title="Reminder email in Español"]')
    assert "Envíe Y al 67587" in spanish.locator("body").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download flyer (PDF, English)").click()
    assert download.value.suggested_filename == "opt-in-flyer-springfield-en.pdf"

    page.get_by_role("button", name="Send reminders").click()  # click 2: send
    # Click 3: the confirmation says how many, with focus on its question for screen readers.
    question = page.get_by_role("heading", name="Email 2 contacts an opt-in reminder now?")
    question.wait_for()
    assert page.evaluate("document.activeElement.id") == "confirm-question"
    assert smtp_server.messages == []
    page.get_by_role("button", name="Yes, email 2 contacts").click()
    page.wait_for_url(f"{live_server.url}/reminders/runs/*/")
    assert page.locator('[data-role="status"]').inner_text() == "Queued"
    assert smtp_server.messages == []

    # The background worker (the real one, on the "email" queue) picks the run up.
    call_command("db_worker", "--batch", "--queue-name", "email", "--no-startup-delay")

    # htmx polls the progress, then reloads the page once the run is done.
    page.locator("#reminder-emails").wait_for(timeout=30000)
    assert page.locator('[data-role="status"]').inner_text() == "Finished"
    assert page.locator('[data-role="sent"]').inner_text() == "2"
    rows = page.locator("#reminder-emails tbody tr")
    assert rows.count() == 2
    assert sorted(rows.locator("td:nth-child(2)").all_inner_texts()) == [
        "ana@example.org",
        "fay@example.org",
    ]
    assert smtp_server.recipients == ["ana@example.org", "fay@example.org"]
