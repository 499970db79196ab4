"""Out-of-range numbers and dates, and control characters, are refused with the parameter named
and nothing changed, on the web pages, the API and the CLI alike."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.messaging.models import Broadcast, BroadcastStatus

BIG = "99999999999999999999999"  # more than a signed 64-bit integer holds


@pytest.fixture
def api(client: Any, admin_user: Any) -> Any:
    client.raise_request_exception = False
    key = api_token_create(user=admin_user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def web(admin_client: Any) -> Any:
    admin_client.raise_request_exception = False
    return admin_client


@pytest.fixture
def audience(org: Any) -> None:
    testing.create_contact(org, "S1", ["+12175550100"], consent="opted_in")


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/broadcasts/?page=" + BIG, "page"),
        ("/contacts/?page=" + BIG, "page"),
        ("/reports/sms-log/?from=9999-12-31", "from"),
        ("/reports/sms-log/?to=9999-12-31", "to"),
        ("/reports/sms-log/?broadcast=" + BIG, "broadcast"),
        ("/reports/sms-log/?after=" + BIG, "after"),
        ("/reports/sms-log/summary/?from=9999-12-31", "from"),
        ("/reports/sms-status/all/?after=" + BIG, "after"),
        ("/contacts/?q=%00", "q"),
        ("/reports/sms-log/?q=a%07b", "q"),
    ],
)
def test_web_filters_out_of_range_are_400_naming_the_parameter(
    web: Any, url: str, param: str
) -> None:
    response = web.get(url)
    assert response.status_code == 400, response.content[:300]
    assert param.encode() in response.content


def test_web_ids_beyond_the_database_are_not_found(web: Any) -> None:
    assert web.get(f"/broadcasts/{BIG}/").status_code == 404
    assert web.get(f"/contacts/{BIG}/").status_code == 404


def test_org_switch_with_a_huge_id_is_refused(web: Any) -> None:
    response = web.post("/org/switch/", {"organization": BIG})
    assert response.status_code == 400
    assert b"organization" in response.content


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/broadcasts/?offset=" + BIG, "offset"),
        ("/api/v1/broadcasts/?limit=" + BIG, "limit"),
        ("/api/v1/broadcasts/" + BIG, "broadcast_id"),
        ("/api/v1/contacts/" + BIG, "contact_id"),
        ("/api/v1/reminders/runs/" + BIG, "run_id"),
        ("/api/v1/reports/sms-status?cursor=" + BIG, "cursor"),
        ("/api/v1/reports/sms-log?from=9999-12-31", "from"),
        ("/api/v1/reports/sms-log?broadcast=" + BIG, "broadcast"),
        ("/api/v1/reports/sms-log?page=" + BIG, "page"),
        ("/api/v1/contacts?q=%00", "q"),
    ],
)
def test_api_out_of_range_is_400_or_422_naming_the_parameter(
    api: Any, url: str, param: str
) -> None:
    response = api.get(url)
    assert response.status_code in (400, 422), response.content[:300]
    assert param in response.content.decode()
    assert response["Content-Type"].startswith("application/json")


def test_api_far_future_schedule_is_refused_and_the_draft_stays_a_draft(
    api: Any, audience: None
) -> None:
    created = api.post(
        "/api/v1/broadcasts/", {"name": "Far", "text": "Hello"}, content_type="application/json"
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    response = api.post(
        f"/api/v1/broadcasts/{pk}/send",
        {"at": "9999-12-31T23:59:00-05:00"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "at 9999-12-31T23:59 is out of range" in response.json()["detail"]
    assert Broadcast.objects.get(pk=pk).status == BroadcastStatus.DRAFT


def test_web_compose_far_future_is_a_form_error_and_leaves_no_draft(
    web: Any, audience: None
) -> None:
    response = web.post(
        "/broadcasts/new/",
        {
            "name": "Far away",
            "text": "Hello",
            "audience": "all",
            "when": "later",
            "send_at": "9999-12-31T23:59",
        },
    )
    assert response.status_code == 200
    assert "is out of range (years 1900 to 2999)" in response.content.decode()
    assert not Broadcast.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("name", "Snow\x00day", "NUL byte"),
        ("name", "Snow\nday", "line break"),
        ("text", "School is closed\x00", "NUL byte"),
        ("text", "Bell \x07 rings", "U+0007"),
        ("text", "Esc \x1b[31m red", "U+001B"),
        ("text", "C1 \x85 next line", "U+0085"),
    ],
)
def test_control_characters_refused_by_api_web_and_cli_alike(
    api: Any, web: Any, org: Any, audience: None, field: str, value: str, shown: str
) -> None:
    good = {"name": "Snow day", "text": "School is closed today."}
    bad = {**good, field: value}
    response = api.post("/api/v1/broadcasts/", bad, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()["detail"] and shown in response.json()["detail"]

    page = web.post("/broadcasts/new/", {**bad, "audience": "all", "when": "now"})
    assert page.status_code in (200, 400)
    assert shown in page.content.decode()

    with pytest.raises(CommandError, match=re.escape(shown)):
        call_command(
            "broadcast",
            "send",
            "--org",
            org.slug,
            "--name",
            bad["name"],
            "--message",
            bad["text"],
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not Broadcast.objects.exists()


def test_line_breaks_and_tabs_stay_allowed_in_texts(api: Any, audience: None) -> None:
    response = api.post(
        "/api/v1/broadcasts/",
        {"name": "Two lines", "text": "Line one\r\nLine\ttwo"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Broadcast.objects.get().text == "Line one\r\nLine\ttwo"


def test_cli_far_future_schedule_leaves_no_draft(org: Any, audience: None) -> None:
    with pytest.raises(CommandError, match=re.escape("is out of range (years 1900 to 2999)")):
        call_command(
            "broadcast",
            "send",
            "--org",
            org.slug,
            "--name",
            "Far",
            "--message",
            "Hello",
            "--at",
            "9999-12-31T23:59",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not Broadcast.objects.exists()
