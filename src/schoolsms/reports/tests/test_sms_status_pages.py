from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.consent.models import ConsentRecord
from schoolsms.contacts.models import PhoneNumber
from schoolsms.reports.tests.conftest import District

pytestmark = pytest.mark.django_db


def test_totals_count_each_contact_number_with_chart_and_drill_down(
    viewer_client: Any, district: District
) -> None:
    # A second contact on Ana's number counts again; a number not enabled for SMS does not.
    PhoneNumber.objects.create(contact=district.cal, position=2, phone="+12175550101")
    PhoneNumber.objects.create(
        contact=district.cal, position=3, phone="+12175550188", sms_enabled=False
    )
    html = viewer_client.get("/reports/sms-status/").content.decode()
    assert 'data-status="pending">2<' in html
    assert 'data-status="opted_in">3<' in html
    assert 'data-status="opted_out">1<' in html
    assert 'id="sms-status-chart"' in html and "sms-status-chart-data" in html
    assert 'href="/reports/sms-status/all/?status=opted_out"' in html
    assert 'href="/reminders/flyer.pdf"' in html
    assert "Pending Opt-In</dt>" in html  # the legend


def test_lookup_shows_status_since_how_contacts_block_and_history(
    viewer_client: Any, district: District
) -> None:
    html = viewer_client.get("/reports/sms-status/", {"number": "(217) 555-0102"}).content.decode()
    assert '<strong class="phone">(217) 555-0102</strong> is' in html
    assert 'data-status="opted_out">Opted Out<' in html
    assert "Keyword texted to the short code" in html  # how it got there
    assert "Ben Okafor" in html and "S200" in html
    assert f'<a href="/contacts/{district.ben.pk}/">Ben Okafor</a>' in html
    assert '<dd data-role="can-take-sms">Yes</dd>' in html
    assert "<dt>Blocked</dt><dd>No" in html
    assert html.count("<td>Contact import</td>") == 1 and "<td>STOP</td>" in html
    blocked = viewer_client.get("/reports/sms-status/", {"number": "2175550104"}).content.decode()
    assert "<dt>Blocked</dt><dd>Yes" in blocked
    never = viewer_client.get("/reports/sms-status/", {"number": "2175550105"}).content.decode()
    assert "No consent record yet" in never and "Pending Opt-In" in never


def test_lookup_errors_are_clear(viewer_client: Any, district: District) -> None:
    response = viewer_client.get("/reports/sms-status/", {"number": "hello"})
    assert response.status_code == 400
    assert "is not a phone number" in response.content.decode()
    response = viewer_client.get("/reports/sms-status/", {"number": "2175550177"})
    assert response.status_code == 404
    assert "+12175550177 is not a number of any contact" in response.content.decode()


def test_view_all_pages_and_filters_by_status(viewer_client: Any, district: District) -> None:
    for i in range(55):
        PhoneNumber.objects.create(
            contact=district.cal, position=10 + i, phone=f"+1217555{3000 + i}"
        )
    first = viewer_client.get("/reports/sms-status/all/").content.decode()
    assert first.count("<tr><td>") == 50
    nxt = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = viewer_client.get("/reports/sms-status/all/" + nxt).content.decode()
    assert second.count("<tr><td>") == 10 and 'rel="next"' not in second
    pending = viewer_client.get("/reports/sms-status/all/", {"status": "pending"}).content.decode()
    assert pending.count("<tr><td>") == 50  # 55 numbers without records, plus Ben's pending one
    out = viewer_client.get("/reports/sms-status/all/", {"status": "Opted Out"}).content.decode()
    assert out.count("<tr><td>") == 1 and "(217) 555-0102" in out
    bad = viewer_client.get("/reports/sms-status/all/", {"status": "maybe"})
    assert bad.status_code == 400 and "is not an SMS status" in bad.content.decode()


def test_view_all_shows_times_in_the_organizations_time_zone(viewer_client: Any, org: Any) -> None:
    testing.create_contact(org, "TZ1", ["+12025550199"], consent="opted_in")
    ConsentRecord.objects.filter(phone="+12025550199").update(
        changed_at=dt.datetime(2026, 7, 1, 15, 0, tzinfo=dt.UTC)
    )
    html = viewer_client.get("/reports/sms-status/all/").content.decode()
    assert f"Since ({org.timezone})" in html
    assert "Jul 1, 2026, 11:00 AM" in html and "3:00 PM" not in html  # New York, summer


def test_cannot_take_sms_shows_in_the_lookup_and_the_totals(
    viewer_client: Any, district: District
) -> None:
    # Shared by two contacts: counted twice in the totals, and both pairs cannot take SMS.
    PhoneNumber.objects.create(contact=district.cal, position=2, phone="+12175550102")
    PhoneNumber.objects.filter(phone="+12175550102").update(sms_capable=False)
    html = viewer_client.get("/reports/sms-status/").content.decode()
    assert "a number shared by two contacts (two guardians on one phone) counts twice" in html
    assert "<strong>Cannot take SMS:</strong> 2 of these" in html
    assert 'href="/contacts/?sms_status=cannot_take_sms"' in html
    assert "<dt>Cannot take SMS</dt>" in html  # the legend says what it means
    found = viewer_client.get("/reports/sms-status/", {"number": "2175550102"}).content.decode()
    assert '<strong id="lookup-cannot-take-sms">Cannot take SMS</strong>' in found
    assert '<dd data-role="can-take-sms">No: texts to it failed permanently' in found
    listed = viewer_client.get("/reports/sms-status/all/").content.decode()
    assert listed.count("Cannot take SMS</td>") == 2
