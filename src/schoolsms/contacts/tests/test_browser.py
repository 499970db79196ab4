"""One walk through the web app in headless Chromium: log in, tabs, search, a failed CSV import
(run by the worker while the page polls its progress)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.sync_api import expect

from schoolsms import testing
from schoolsms.consent.services import consent_change, number_block
from schoolsms.contacts.models import Contact
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set SCHOOLSMS_SCREENSHOTS=/some/dir to keep pictures of the pages for a human to look at.
SHOTS = os.environ.get("SCHOOLSMS_SCREENSHOTS", "")

PEOPLE = [
    ("S-1001", "Ana", "García", "guardian", "Lincoln Elementary", "+12175550142", "opted_in"),
    ("S-1002", "Bo", "Nguyen", "guardian", "Lincoln Elementary", "+12175550150", "pending"),
    ("S-1003", "Chidi", "Okafor", "staff", "Central High", "+12175550161", "opted_out"),
    ("S-1004", "Dana", "Kowalski", "guardian", "Central High", "+12175550172", "opted_in"),
    ("S-1005", "Eli", "Haddad", "student", "Central High", "+12175550183", "pending"),
]


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_admin_walks_through_the_tabs_searches_and_reads_an_import_error(
    page: Any, login: Any, live_server: Any, org: Any, admin_user: Any
) -> None:
    for ext_id, first, last, role, school, phone, status in PEOPLE:
        testing.create_contact(
            org,
            ext_id,
            [phone],
            first_name=first,
            last_name=last,
            role=role,
            school=school,
            consent=status,
        )
    testing.create_contact(org, "S-1006", [], first_name="Fay", last_name="Ibsen")
    consent_change(
        sender=org.sender,
        phone="+12175550150",
        new_status="opted_in",
        source="keyword",
        text="Y",
    )
    number_block(organization=org, phone="+12175550172", reason="wrong family", actor=admin_user)

    login(admin_user.email)
    tabs = page.get_by_role("navigation", name="Main")
    for name in ("Contacts", "Reports", "Settings", "Broadcasts", "Contacts"):
        tabs.get_by_role("link", name=name).click()
        expect(tabs.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
    expect(page.locator(".result-count")).to_have_text("6 contacts")
    page.wait_for_load_state("networkidle")
    _shot(page, "contacts-list")

    # Search by a phone number typed the way a parent says it.
    page.get_by_role("searchbox", name="Search").fill("217 555 0150")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.locator(".result-count")).to_have_text("1 contact found")
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Nguyen, Bo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bo Nguyen")
    history = page.locator("table.history tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text("Pending Opt-In → Opted In")
    expect(history.nth(1).locator("td").nth(3)).to_have_text("Y")
    page.wait_for_load_state("networkidle")
    _shot(page, "contact-detail")

    # Import a file with one bad row: the page lists it and nothing changes.
    page.get_by_role("navigation", name="Sub-tabs").get_by_role("link", name="Import").click()
    page.get_by_label("File", exact=True).set_input_files(
        {
            "name": "roster.csv",
            "mimeType": "text/csv",
            "buffer": (
                b"external_id,first_name,last_name,phone1\n"
                b"S-2001,Gus,Lee,(217) 555-0190\n"
                b"S-2002,Hana,Mori,555-12\n"
            ),
        }
    )
    page.get_by_role("button", name="Import").click()
    # The import runs in the background; its page polls until the worker has checked it.
    expect(page.get_by_role("region", name="Import progress")).to_contain_text(
        "Waiting for the background worker"
    )
    run_worker(horizon=0)
    report = page.get_by_role("alert")
    expect(report).to_contain_text("Nothing was imported: 1 problem in roster.csv")
    cells = report.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[:3] == ["3", "phone1", "555-12"]
    assert cells[3]  # a reason a person can read
    _shot(page, "import-error")
    assert not Contact.objects.filter(external_id__in=["S-2001", "S-2002"]).exists()
