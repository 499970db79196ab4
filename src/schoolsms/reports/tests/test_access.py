"""One organization never sees another's rows, on any page, export or API call."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.reports.tests.conftest import District

pytestmark = pytest.mark.django_db

SECRETS = ("Shelbyville secret", "Secret", "+12175550199")


@pytest.fixture
def outsider(client: Any, district: District) -> Any:
    """A user of the other district only."""
    user = testing.create_user(district.other_org, "boss@shelbyville.example.org", "admin")
    client.force_login(user)
    client.token = api_token_create(user=user)
    return client


def _body(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode()


def test_pages_and_exports_show_only_the_users_organization(
    viewer_client: Any, district: District
) -> None:
    for url in (
        "/reports/sms-log/",
        "/reports/sms-log/export.csv",
        "/reports/sms-status/",
        "/reports/sms-status/all/",
        "/reports/sms-status/export.csv",
        "/api/v1/reports/sms-log",
    ):
        body = _body(viewer_client.get(url))
        for secret in SECRETS:
            assert secret not in body, (url, secret)
    # Naming the other org's broadcast or number finds nothing.
    response = viewer_client.get("/reports/sms-log/", {"broadcast": district.other_broadcast.id})
    assert response.status_code == 400
    assert "is not a broadcast of Springfield" in response.content.decode()
    lookup = viewer_client.get("/reports/sms-status/", {"number": "+12175550199"})
    assert lookup.status_code == 404


def test_the_other_organization_sees_only_its_own(outsider: Any, district: District) -> None:
    rows = list(csv.reader(io.StringIO(_body(outsider.get("/reports/sms-log/export.csv")))))
    assert [r[2] for r in rows[1:]] == ["Shelbyville secret"]
    status_rows = _body(outsider.get("/reports/sms-status/export.csv")).splitlines()
    assert [r.split(",")[2] for r in status_rows[1:]] == ["+12175550199"]
    # Its totals ignore Springfield's numbers even though both share nothing but the schema.
    auth = {"HTTP_AUTHORIZATION": f"Bearer {outsider.token}"}
    totals = outsider.get("/api/v1/reports/sms-status/totals", **auth).json()
    assert totals == {"Pending Opt-In": 0, "Opted In": 1, "Opted Out": 0}
    # Asking the API for Springfield by slug is a 404, as if it did not exist.
    for path in ("sms-log", "sms-log/summary", "sms-status", "sms-status/totals"):
        response = outsider.get(f"/api/v1/reports/{path}", {"org": "springfield"}, **auth)
        assert response.status_code == 404, path
    response = outsider.get(
        "/api/v1/reports/sms-status/lookup", {"org": "springfield", "number": "2175550101"}, **auth
    )
    assert response.status_code == 404
    api_log = outsider.get("/api/v1/reports/sms-log", {"format": "csv"}, **auth)
    assert "Snow day" not in _body(api_log)
    response = outsider.get(
        "/api/v1/reports/sms-log/summary", {"broadcast": district.snow.id}, **auth
    )
    assert response.status_code == 400


def test_reports_need_a_login(client: Any, district: District) -> None:
    for url in (
        "/reports/",
        "/reports/sms-log/",
        "/reports/sms-log/export.csv",
        "/reports/sms-status/export.xlsx",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
