"""A viewer reads both reports in headless Chromium, as a school secretary would."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from schoolsms import testing
from schoolsms.consent.models import ConsentRecord
from schoolsms.messaging import services
from schoolsms.reports.exports import SMS_LOG_HEADER
from schoolsms.reports.tests.conftest import NY, District, local_noon
from schoolsms.reports.tests.factories import make_message

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp")


def test_viewer_reads_the_sms_log_and_sms_status(
    district: District, page: Any, login: Any, live_server: Any
) -> None:
    testing.create_user(district.org, "viewer@springfield.example.org", "viewer")
    for _ in range(50):
        make_message(district.picture, district.ana, "+12175550101", "sent", at=local_noon(1))
    login("viewer@springfield.example.org")

    page.get_by_role("link", name="Reports", exact=True).first.click()
    page.wait_for_url(f"{live_server.url}/reports/")
    subtab = page.locator('nav.subtabs a[aria-current="page"]')
    assert subtab.inner_text() == "Reports"
    page.get_by_role("link", name="SMS Log").click()
    page.wait_for_url(f"{live_server.url}/reports/sms-log/")

    day = local_noon(2).date().isoformat()
    # A checkbox per broadcast (a thumb can tick it); dates in the organization's time zone.
    page.get_by_role(
        "checkbox", name=f"Snow day ({district.snow.created_at.astimezone(NY):%b %-d, %Y})"
    ).check()
    page.get_by_label("From", exact=True).fill(day)
    page.get_by_label("To", exact=True).fill(day)
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("networkidle")

    assert page.get_by_role("heading", name="Summary: 5 messages").is_visible()
    assert page.locator('td[data-result="ineligible"]').inner_text() == "3"
    assert page.locator('td[data-result="failed"]').inner_text() == "1"
    assert page.locator('td[data-reason="opted_out"]').inner_text() == "1"
    assert page.locator("#sms-log-rows tbody tr").count() == 5
    assert page.evaluate("() => !!Chart.getChart('sms-log-chart')")
    page.screenshot(path=str(SHOTS / "reports-sms-log.png"), full_page=True)
    # A reason in the summary leads to its messages, the rest of the selection kept.
    page.locator("table.summary").get_by_role("link", name="The number has opted out").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#sms-log-rows tbody tr").count() == 1
    assert page.get_by_role("checkbox", name="The number has opted out").is_checked()
    page.go_back()
    page.wait_for_load_state("networkidle")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = SHOTS / "reports-browser-sms-log.csv"
    download.value.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == SMS_LOG_HEADER
    assert len(rows) == 6 and {r[2] for r in rows[1:]} == {"Snow day"}

    page.get_by_role("link", name="Reports", exact=True).last.click()
    page.get_by_role("link", name="SMS Status").click()
    page.wait_for_url(f"{live_server.url}/reports/sms-status/")
    page.get_by_label("Phone number").fill("(217) 555-0102")
    page.get_by_role("button", name="Look up").click()
    page.wait_for_load_state("networkidle")
    result = page.locator("#lookup-result")
    assert "(217) 555-0102 is Opted Out" in result.locator("header").inner_text()
    assert "Ben Okafor" in result.inner_text()
    assert page.locator('#status-totals td[data-status="opted_in"]').inner_text() == "2"
    assert page.locator('#status-totals td[data-status="pending"]').inner_text() == "2"
    assert page.evaluate("() => !!Chart.getChart('sms-status-chart')")
    page.screenshot(path=str(SHOTS / "reports-sms-status.png"), full_page=True)

    page.get_by_role("link", name="List").nth(2).click()  # drill down: Opted Out
    page.wait_for_url(f"{live_server.url}/reports/sms-status/all/?status=opted_out")
    assert page.locator("#status-rows tbody tr").count() == 1

    # Paging: the rows come at once, the totals follow (htmx) with their chart.
    page.goto(f"{live_server.url}/reports/sms-log/")
    page.get_by_role("link", name="Next").click()
    page.get_by_role("heading", name="Summary: 57 messages").wait_for()
    assert page.locator("#sms-log-rows tbody tr").count() == 7
    page.wait_for_function("() => !!Chart.getChart('sms-log-chart')")


def test_view_all_reads_in_local_time(page: Any, login: Any, live_server: Any, org: Any) -> None:
    testing.create_contact(org, "TZ1", ["+12025550199"], consent="opted_in")
    ConsentRecord.objects.filter(phone="+12025550199").update(
        changed_at=dt.datetime(2026, 1, 15, 13, 5, tzinfo=dt.UTC)
    )
    testing.create_user(org, "viewer@springfield.example.org", "viewer")
    login("viewer@springfield.example.org")
    page.goto(f"{live_server.url}/reports/sms-status/all/")
    header = page.locator("#status-rows thead")
    assert "Since (America/New_York)" in header.inner_text()
    row = page.locator("#status-rows tbody tr", has_text="TZ1")
    assert "Jan 15, 2026, 8:05 AM" in row.inner_text()  # 13:05 UTC is 8:05 in New York in winter


def test_a_broadcast_is_found_by_typing_in_the_sms_log(
    district: District, page: Any, login: Any, live_server: Any
) -> None:
    for n in range(8):
        services.broadcast_create(organization=district.org, name=f"Field trip {n}", text="Hi")
    testing.create_user(district.org, "viewer@springfield.example.org", "viewer")
    login("viewer@springfield.example.org")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/reports/sms-log/")
    picks = page.locator("#broadcast-picks label")
    expect(picks).to_have_count(10)
    page.get_by_role("searchbox", name="Find a broadcast").fill("snow")
    expect(picks.filter(visible=True)).to_have_count(1)
    page.get_by_role("checkbox", name="Snow day").check()
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("checkbox", name="Snow day").is_checked()
    assert page.get_by_role("heading", name="Summary: 5 messages").is_visible()
