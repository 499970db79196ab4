from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest

from schoolsms.reports.exports import SMS_LOG_HEADER, SMS_STATUS_HEADER, safe_text
from schoolsms.reports.tests.conftest import District

pytestmark = pytest.mark.django_db


def _csv(response: Any) -> list[list[str]]:
    assert response.streaming  # written while it is sent, not built in memory first
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_formula_cells_are_defused_and_phone_numbers_stay_readable() -> None:
    assert safe_text("=1+2") == "'=1+2"
    assert safe_text("+1 Picture day") == "'+1 Picture day"
    assert safe_text("-2+3") == "'-2+3"
    assert safe_text("@SUM(1)") == "'@SUM(1)"
    assert safe_text("\tx") == "'\tx"
    assert safe_text("\rx") == "'\rx"
    assert safe_text("+12175550101") == "+12175550101"  # E.164: a number, not a formula
    assert safe_text("+1217555010=") == "'+1217555010="
    assert safe_text("Snow day") == "Snow day"
    assert safe_text("") == ""


@pytest.mark.django_db
def test_the_sql_formula_protection_is_the_python_one() -> None:
    """The database-side writers protect cells with cells.safe_text_sql: same rule, same text."""
    from django.db import connection

    from schoolsms.reports.cells import safe_text_sql

    cells = ["=1+2", "+1 Picture day", "-2", "@SUM(1)", "\tx", "\rx", "+12175550101", "+",
             "+1217555010=", "+١٢", "Snow day", "", "'quoted'", "a=b", " =x"]  # fmt: skip
    cast = "::text" if connection.vendor == "postgresql" else ""
    for cell in cells:
        sql = safe_text_sql("v.x", connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {sql} FROM (SELECT %s{cast} AS x) v", [cell])
            assert cursor.fetchone()[0] == safe_text(cell), repr(cell)


def test_sms_log_csv_is_the_page_selection_with_protected_cells(
    viewer_client: Any, district: District
) -> None:
    response = viewer_client.get("/reports/sms-log/export.csv", {"broadcast": district.snow.id})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == SMS_LOG_HEADER
    body = {r[3] + "/" + r[5]: dict(zip(SMS_LOG_HEADER, r, strict=True)) for r in rows[1:]}
    assert len(body) == 5
    evil = body["'-2+3/+12175550104"]
    assert evil["contact_name"] == "'=cmd|' /C calc'!A0 @SUM(1)"
    assert evil["delivery_stage"] == "Undelivered"
    assert evil["delivery_result"] == "Failed to Send"
    assert evil["reason_code"] == "contact_account"
    assert evil["carrier_error_code"] == "30003"
    sent = body["S100/+12175550101"]
    assert sent["delivery_result"] == "Sent" and sent["delivered_at"] == sent["date"]
    assert sent["date"].endswith("12:00:00")  # local time of the organization
    assert body["S400/"]["reason"] == "The contact has no active SMS number"
    # Every text cell starting with = + - @ is defused.
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "-", "@")), cell
            assert not cell.startswith("+") or cell[1:].isdigit(), cell


def test_picture_broadcast_name_is_defused_in_csv(viewer_client: Any, district: District) -> None:
    rows = _csv(
        viewer_client.get("/reports/sms-log/export.csv", {"broadcast": district.picture.id})
    )
    assert {r[2] for r in rows[1:]} == {"'+1 Picture day"}


def test_sms_log_xlsx_has_the_same_rows(viewer_client: Any, district: District) -> None:
    response = viewer_client.get("/reports/sms-log/export.xlsx", {"result": "failed"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == SMS_LOG_HEADER
    assert len(values) == 2
    row = dict(zip(SMS_LOG_HEADER, values[1], strict=True))
    assert row["contact_external_id"] == "'-2+3"
    assert row["phone"] == "+12175550104"
    assert row["carrier_error_code"] == "30003"
    assert row["date"].hour == 12  # a real date-time cell, in the org's time zone


def test_sms_status_exports(viewer_client: Any, district: District) -> None:
    rows = _csv(viewer_client.get("/reports/sms-status/export.csv"))
    assert rows[0] == SMS_STATUS_HEADER
    by_phone = {r[2]: r for r in rows[1:]}
    assert set(by_phone) == {f"+1217555010{i}" for i in range(1, 6)}
    assert by_phone["+12175550102"][3] == "Opted Out"
    assert by_phone["+12175550104"][5] == "yes"  # blocked
    assert by_phone["+12175550104"][:2] == ["'-2+3", "'=cmd|' /C calc'!A0 @SUM(1)"]
    assert by_phone["+12175550105"][3:5] == ["Pending Opt-In", ""]  # no record yet
    only_out = _csv(viewer_client.get("/reports/sms-status/export.csv", {"status": "opted_out"}))
    assert [r[2] for r in only_out[1:]] == ["+12175550102"]
    response = viewer_client.get("/reports/sms-status/export.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.active.max_row == 6


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "phone"},
        {"sort": "-delivered", "result": ["sent", "failed"]},
        {"q": "okafor", "sort": "result"},
    ],
)
def test_every_csv_writer_writes_the_same_bytes(district: District, params: dict[str, Any]) -> None:
    """SQLite's line builder and PostgreSQL's COPY both match the plain row writer."""
    from django.db import connection

    from schoolsms.reports import exports_pg, exports_sqlite
    from schoolsms.reports.exports import csv_chunks, sms_log_records
    from schoolsms.reports.params import sms_log_filter

    district.ana.first_name = 'Ana "Quote", Jr'  # quoting and commas in a cell
    district.ana.save()
    district.picture.name = '\tTabbed, "quoted"\nand two lines'
    district.picture.save()
    district.cal.first_name, district.cal.last_name = "", "+15"  # plus and digits: kept as is
    district.cal.save()
    f = sms_log_filter(
        district.org,
        results=params.get("result", []),
        search=params.get("q", ""),
        sort=params.get("sort"),
    )
    plain = b"".join(csv_chunks(SMS_LOG_HEADER, sms_log_records(f))).decode()
    assert len(plain.splitlines()) > 1
    if connection.vendor == "postgresql":
        assert b"".join(exports_pg.sms_log_copy_chunks(f, SMS_LOG_HEADER)).decode() == plain
    else:
        assert b"".join(exports_sqlite.sms_log_csv_lines(f, SMS_LOG_HEADER)).decode() == plain


def test_local_times_are_right_on_both_sides_of_a_daylight_saving_change(
    district: District,
) -> None:
    import datetime as dt

    from schoolsms.reports.exports import sms_log_csv
    from schoolsms.reports.params import sms_log_filter
    from schoolsms.reports.tests.factories import make_message

    utc = dt.UTC
    # New York springs forward at 2026-03-08 07:00 UTC (02:00 EST becomes 03:00 EDT).
    for moment in (
        dt.datetime(2026, 3, 8, 6, 59, 59, 900000, tzinfo=utc),
        dt.datetime(2026, 3, 8, 7, 0, 0, tzinfo=utc),
    ):
        make_message(
            district.snow,
            district.ana,
            "+12175550101",
            "sent",
            at=moment,
            delivered_at=dt.datetime(2026, 11, 1, 6, 30, tzinfo=utc),
        )  # EDT→EST day
    f = sms_log_filter(district.org, date_from="2026-03-08", date_to="2026-03-08", sort="date")
    rows = list(csv.reader(io.StringIO(b"".join(sms_log_csv(f)).decode())))
    assert [(r[0], r[-1]) for r in rows[1:]] == [
        ("2026-03-08 01:59:59", "2026-11-01 01:30:00"),
        ("2026-03-08 03:00:00", "2026-11-01 01:30:00"),
    ]


@pytest.mark.parametrize("sort", ["phone", "-phone", "-delivered"])
def test_exports_list_rows_in_the_order_the_pages_show_them(district: District, sort: str) -> None:
    from schoolsms.reports.exports import sms_log_csv
    from schoolsms.reports.params import sms_log_filter
    from schoolsms.reports.selectors import sms_log_page

    f = sms_log_filter(district.org, sort=sort)
    page = sms_log_page(f, size=100)
    rows = list(csv.reader(io.StringIO(b"".join(sms_log_csv(f)).decode())))[1:]
    assert [r[5] for r in rows] == [m.phone or "" for m in page.rows]
    assert [r[4] for r in rows] == [
        safe_text(m.contact.name if m.contact else "") for m in page.rows
    ]
