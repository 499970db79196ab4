from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.reports.exports import SMS_LOG_HEADER, SMS_STATUS_HEADER
from schoolsms.reports.tests.conftest import District

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(district: District) -> dict[str, str]:
    user = testing.create_user(district.org, "api@springfield.example.org", "viewer")
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user)}"}


def test_token_is_required(client: Any, district: District) -> None:
    assert client.get("/api/v1/reports/sms-log").status_code == 401
    bad = {"HTTP_AUTHORIZATION": "Bearer nope"}
    assert client.get("/api/v1/reports/sms-status/totals", **bad).status_code == 401


def test_sms_log_json_pages_with_summary(
    client: Any, auth: dict[str, str], district: District
) -> None:
    first = client.get("/api/v1/reports/sms-log", {"limit": 4, "sort": "date"}, **auth).json()
    assert first["summary"]["total"] == 7
    assert first["summary"]["by_result"]["Ineligible to Send"] == 3
    assert len(first["rows"]) == 4
    second = client.get(
        "/api/v1/reports/sms-log",
        {"limit": 4, "sort": "date", "cursor": first["next_cursor"]},
        **auth,
    ).json()
    assert len(second["rows"]) == 3 and second["next_cursor"] is None
    assert second["summary"] is None  # totals come with the first page only
    ids = [r["id"] for r in first["rows"] + second["rows"]]
    assert len(set(ids)) == 7
    row = next(r for r in first["rows"] + second["rows"] if r["carrier_error_code"])
    assert row["delivery_result"] == "Failed to Send" and row["reason_code"] == "contact_account"
    assert row["date"].endswith(("-05:00", "-04:00"))  # the org's time zone


def test_sms_log_filters_and_summary_endpoint(
    client: Any, auth: dict[str, str], district: District
) -> None:
    params = {"broadcast": [district.snow.id], "result": ["Ineligible to Send"]}
    summary = client.get("/api/v1/reports/sms-log/summary", params, **auth).json()
    assert summary["total"] == 3
    assert summary["by_reason"] == {"no_sms_number": 1, "opted_out": 1, "pending_opt_in": 1}
    bad = client.get("/api/v1/reports/sms-log/summary", {"from": "soon"}, **auth)
    assert bad.status_code == 400 and "from 'soon' is not a date" in bad.json()["detail"]


def test_sms_log_csv_and_xlsx_formats(
    client: Any, auth: dict[str, str], district: District
) -> None:
    response = client.get("/api/v1/reports/sms-log", {"format": "csv"}, **auth)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == SMS_LOG_HEADER and len(rows) == 8
    xlsx = client.get("/api/v1/reports/sms-log", {"format": "xlsx"}, **auth)
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_sms_status_endpoints(client: Any, auth: dict[str, str], district: District) -> None:
    totals = client.get("/api/v1/reports/sms-status/totals", **auth).json()
    assert totals == {"Pending Opt-In": 2, "Opted In": 2, "Opted Out": 1}
    found = client.get("/api/v1/reports/sms-status/lookup", {"number": "217-555-0104"}, **auth)
    assert found.json()["blocked"] is True and found.json()["sms_status"] == "Opted In"
    missing = client.get("/api/v1/reports/sms-status/lookup", {"number": "2175550177"}, **auth)
    assert missing.status_code == 404
    page = client.get("/api/v1/reports/sms-status", {"limit": 3}, **auth).json()
    rest = client.get(
        "/api/v1/reports/sms-status", {"limit": 3, "cursor": page["next_cursor"]}, **auth
    ).json()
    assert len(page["rows"]) + len(rest["rows"]) == 5 and rest["next_cursor"] is None
    only = client.get("/api/v1/reports/sms-status", {"status": "Opted Out"}, **auth).json()
    assert [r["phone"] for r in only["rows"]] == ["+12175550102"]
    response = client.get("/api/v1/reports/sms-status", {"format": "csv"}, **auth)
    assert b"".join(response.streaming_content).decode().splitlines()[0] == ",".join(
        SMS_STATUS_HEADER
    )


def test_openapi_documents_the_report_endpoints(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "sms-log",
        "sms-log/summary",
        "sms-status",
        "sms-status/totals",
        "sms-status/lookup",
    ):
        assert f"/api/v1/reports/{path}" in paths
