from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from schoolsms.reports.tests.conftest import NY, District, local_noon
from schoolsms.reports.tests.factories import make_message

pytestmark = pytest.mark.django_db


def test_reports_tab_lists_reports_in_groups(viewer_client: Any) -> None:
    html = viewer_client.get("/reports/").content.decode()
    assert 'aria-current="page">Reports</a>' in html  # the Reports sub-tab is selected
    groups = html.index("Broadcasts and Date Range"), html.index("Other")
    assert groups[0] < html.index("SMS Log") < groups[1] < html.index("SMS Status")


def test_sms_log_defaults_to_last_30_days_with_totals_and_rows(
    viewer_client: Any, district: District
) -> None:
    response = viewer_client.get("/reports/sms-log/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Summary: 7 messages" in html  # the 40-day-old row is outside the range
    assert 'data-result="ineligible">3<' in html
    assert 'data-reason="opted_out">1<' in html
    assert 'data-reason="contact_account">1<' in html
    assert 'data-result="not_sent_yet">1<' in html
    # Rows: labels users know, times in the org's zone, the carrier code.
    assert "Ineligible to Send" in html and "Undelivered" in html
    assert "The number has opted out" in html
    assert "30003" in html
    assert local_noon(2).strftime("%b %-d, %Y, 12:00 PM") in html
    assert "Shelbyville secret" not in html
    # The legend explains every result.
    for label in ("Not Sent Yet", "Sending", "Sent", "Ineligible to Send", "Failed to Send"):
        assert f'<th scope="row">{label}</th>' in html


def test_sms_log_filters_by_broadcast_result_reason_and_search(
    viewer_client: Any, district: District
) -> None:
    def total(**params: Any) -> str:
        html = viewer_client.get("/reports/sms-log/", params).content.decode()
        return html.split("Summary: ")[1].split(" message")[0]

    assert total(broadcast=district.picture.id) == "2"
    assert total(broadcast=[district.picture.id, district.snow.id]) == "7"
    assert total(result="ineligible") == "3"
    assert total(result=["sent", "failed"]) == "2"
    assert total(reason="pending_opt_in") == "1"
    assert total(q="okafor") == "2"  # by name
    assert total(q="S100") == "2"  # by external id
    assert total(q="(217) 555-0101") == "2"  # by number, any format


def test_date_range_is_inclusive_in_the_org_time_zone(
    viewer_client: Any, district: District
) -> None:
    day = local_noon(5).date()
    late = dt.datetime.combine(day, dt.time(23, 30), tzinfo=NY)  # next day in UTC
    make_message(district.snow, district.ana, "+12175550101", "sent", at=late)
    params = {"from": day.isoformat(), "to": day.isoformat()}
    html = viewer_client.get("/reports/sms-log/", params).content.decode()
    assert "Summary: 1 message<" in html
    assert f"{day:%b %-d, %Y}, 11:30 PM" in html


def test_bad_date_names_the_parameter(viewer_client: Any, district: District) -> None:
    response = viewer_client.get("/reports/sms-log/", {"from": "2026-13-01", "to": "2026-12-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "From &#x27;2026-13-01&#x27; is not a date (use YYYY-MM-DD)" in html
    # What was typed stays, marked as the thing to fix; the good date stays as it was.
    assert 'type="text" name="from" value="2026-13-01"' in html
    assert 'aria-invalid="true"' in html and 'type="date" name="to" value="2026-12-01"' in html
    backwards = viewer_client.get("/reports/sms-log/", {"from": "2026-12-05", "to": "2026-12-01"})
    html = backwards.content.decode()
    assert "From 2026-12-05 is after To 2026-12-01" in html
    assert 'value="2026-12-05"' in html and html.count('aria-invalid="true"') == 2


def test_summary_rows_link_to_their_messages(viewer_client: Any, district: District) -> None:
    html = viewer_client.get("/reports/sms-log/", {"q": "Okafor"}).content.decode()
    assert '<a href="?q=Okafor&amp;result=ineligible&amp;reason=opted_out">' in html
    # Filters are checkboxes (a thumb can tick them), reasons grouped under their result.
    assert 'type="checkbox" name="broadcast"' in html and 'type="checkbox" name="reason"' in html
    # Plain words: the legend names each reason by its label, under its result; no codes.
    assert "<code>opted_out</code>" not in html and "opted_out<" not in html
    failed = html.index("Failed to Send: the reasons")
    assert failed < html.index("<dt>The phone line is suspended, invalid or no longer exists</dt>")
    ineligible = html.index("<legend>Ineligible to Send</legend>")
    assert ineligible < html.index('value="opted_out"') < html.index("<legend>Failed to Send")


def test_rows_page_with_keyset_cursors_and_sort(viewer_client: Any, district: District) -> None:
    for i in range(60):
        make_message(
            district.picture, district.ana, f"+1217555{1000 + i}", "sent", at=local_noon(3)
        )
    seen: list[str] = []
    url: str | None = f"/reports/sms-log/?broadcast={district.picture.id}&sort=phone"
    pages = 0
    while url:
        response = viewer_client.get(url)
        html = response.content.decode()
        rows = html.split('id="sms-log-rows"')[1].split("</tbody>")[0]
        # Pages show numbers in the national format: (217) 555-1000; all are +1217, so the
        # national format sorts like E.164.
        seen += [cell.split("</td>")[0] for cell in rows.split('<td class="phone">')[1:]]
        pages += 1
        nxt = (
            html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
            if 'rel="next"' in html
            else None
        )
        url = "/reports/sms-log/" + nxt.replace("&amp;", "&") if nxt else None
    assert pages == 2
    assert len(seen) == len(set(seen)) == 62
    assert seen == sorted(seen)


def test_later_pages_load_the_totals_separately(viewer_client: Any, district: District) -> None:
    for _ in range(55):
        make_message(district.picture, district.ana, "+12175550101", "sent", at=local_noon(3))
    first = viewer_client.get("/reports/sms-log/").content.decode()
    assert "Summary: 62 messages" in first and "hx-get" not in first
    nxt = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = viewer_client.get("/reports/sms-log/" + nxt).content.decode()
    assert "Summary:" not in second
    rows = second.split('id="sms-log-rows"')[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1 + 12  # the header and the last 12 rows
    summary_url = second.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert "after=" not in summary_url
    part = viewer_client.get(summary_url).content.decode()
    assert "Summary: 62 messages" in part and 'data-result="sent">56<' in part


def test_a_contact_page_leads_to_their_messages_and_each_numbers_history(
    viewer_client: Any, district: District
) -> None:
    page = viewer_client.get(f"/contacts/{district.ben.pk}/").content.decode()
    link = re.search(r'<a href="([^"]+)" id="contact-sms-log">', page)
    assert link is not None
    html = viewer_client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert "Summary: 2 messages" in html  # Ben's two numbers in the snow day broadcast
    assert html.count(f'href="/contacts/{district.ben.pk}/"') == 2
    assert 'href="/reports/sms-status/?number=%2B12175550102#lookup-result"' in page
