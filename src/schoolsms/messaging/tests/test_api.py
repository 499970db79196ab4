from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.messaging import services
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.tests.helpers import add_messages, make_audience

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, client: Client, user: Any) -> None:
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user)}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1/broadcasts{path}", **self.auth)  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.post(
            f"/api/v1/broadcasts{path}",
            data or {},
            content_type="application/json",
            **self.auth,  # type: ignore[arg-type]
        )


@pytest.fixture
def api(client: Client, admin_user: Any) -> Api:
    return Api(client, admin_user)


def test_create_then_show_with_counts(api: Api, org: Any) -> None:
    make_audience(org)
    response = api.post(
        "/",
        {"name": "Early release", "text": "Early release at 1pm € 2", "roles": ["staff"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert (body["org"], body["encoding"], body["segments"]) == ("springfield", "GSM-7", 1)
    assert body["roles"] == ["staff"] and body["created_by"] == "admin@springfield.example.org"
    broadcast = Broadcast.objects.get(pk=body["id"])
    add_messages(broadcast, DeliveryResult.SENT, n=2)
    add_messages(broadcast, DeliveryResult.INELIGIBLE_TO_SEND, Reason.BLOCKED)
    counts = api.get(f"/{broadcast.pk}").json()["counts"]
    assert counts["total"] == 3
    assert counts["by_result"]["Sent"] == 2
    assert counts["by_result"]["Ineligible to Send"] == 1
    assert counts["by_reason"]["blocked"] == 1


def test_create_reports_what_is_wrong(api: Api, org: Any) -> None:
    response = api.post("/", {"name": "X", "text": "Hi", "external_ids": ["NOPE1"]})
    assert response.status_code == 400
    assert "NOPE1" in response.json()["detail"]
    response = api.post("/", {"name": "X", "text": "a" * 500})
    assert response.status_code == 400
    assert "limit for Springfield District is 3 segments" in response.json()["detail"]


def test_send_schedules_and_send_twice_is_a_conflict(api: Api, org: Any) -> None:
    broadcast_id = api.post("/", {"name": "Later", "text": "Hello"}).json()["id"]
    at = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    response = api.post(f"/{broadcast_id}/send", {"at": at.isoformat()})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
    assert dt.datetime.fromisoformat(response.json()["scheduled_at"]) == at
    response = api.post(f"/{broadcast_id}/send")
    assert response.status_code == 409
    assert "only a draft can be sent" in response.json()["detail"]


def test_send_needs_an_offset_on_at(api: Api, org: Any) -> None:
    broadcast_id = api.post("/", {"name": "Later", "text": "Hello"}).json()["id"]
    response = api.post(f"/{broadcast_id}/send", {"at": "2099-12-01T07:30:00"})
    assert response.status_code == 400
    assert "at must carry a UTC offset" in response.json()["detail"]


def test_cancel(api: Api, org: Any) -> None:
    broadcast_id = api.post("/", {"name": "Oops", "text": "Hello"}).json()["id"]
    response = api.post(f"/{broadcast_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert api.post(f"/{broadcast_id}/cancel").status_code == 409


def test_list_is_scoped_to_the_callers_organization(api: Api, org: Any, other_org: Any) -> None:
    services.broadcast_create(organization=org, name="Ours", text="Hi")
    services.broadcast_create(organization=other_org, name="Theirs", text="Hi")
    body = api.get("/").json()
    assert body["count"] == 1
    assert [b["name"] for b in body["items"]] == ["Ours"]


def test_another_organizations_broadcast_is_not_found(api: Api, other_org: Any) -> None:
    theirs = services.broadcast_create(organization=other_org, name="Theirs", text="Hi")
    assert api.get(f"/{theirs.pk}").status_code == 404
    assert api.post(f"/{theirs.pk}/cancel").status_code == 404
    assert api.post("/", {"org": "shelbyville", "name": "X", "text": "Hi"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == BroadcastStatus.DRAFT


def test_a_viewer_reads_but_cannot_write(client: Client, org: Any) -> None:
    viewer = Api(client, testing.create_user(org, "viewer@springfield.example.org", "viewer"))
    ours = services.broadcast_create(organization=org, name="Ours", text="Hi")
    assert viewer.get(f"/{ours.pk}").status_code == 200
    assert viewer.post("/", {"name": "X", "text": "Hi"}).status_code == 403
    assert viewer.post(f"/{ours.pk}/cancel").status_code == 403


def test_a_token_is_required(client: Client, org: Any) -> None:
    assert client.get("/api/v1/broadcasts/").status_code == 401
