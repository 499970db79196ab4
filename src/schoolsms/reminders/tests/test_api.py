"""The reminders API under /api/v1/reminders, with a bearer token."""

from __future__ import annotations

from typing import Any

import pytest

from schoolsms.accounts.services import api_token_create
from schoolsms.reminders.models import ReminderRun
from schoolsms.reminders.services import reminder_run_execute
from schoolsms.reminders.tests.factories import build_people
from schoolsms.testing import create_user

pytestmark = pytest.mark.django_db


def auth(user: Any) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user)}"}


def test_recipients_start_a_run_and_read_its_outcomes(
    client: Any, org: Any, admin_user: Any, smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
):  # fmt: skip
    people = build_people(org)
    headers = auth(admin_user)
    plan = client.get("/api/v1/reminders/recipients", **headers).json()
    assert plan["to_send"] == 2 and plan["skipped"] == {}
    ana = next(r for r in plan["recipients"] if r["contact_id"] == people.ana.pk)
    assert ana == {
        "contact_id": people.ana.pk,
        "name": "Ana Alvarez",
        "email": "ana@example.org",
        "language": "es",
        "numbers": ["•••-•••-0101", "•••-•••-0102"],
        "skip_reason": "",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/reminders/runs", {"force": False}, content_type="application/json", **headers
        )
    assert response.status_code == 202
    run_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    busy = client.post("/api/v1/reminders/runs", {}, content_type="application/json", **headers)
    assert busy.status_code == 409 and "already in progress" in busy.json()["detail"]

    reminder_run_execute(run_id=run_id)  # what the worker does
    detail = client.get(f"/api/v1/reminders/runs/{run_id}", **headers).json()
    assert detail["status"] == "finished" and detail["sent"] == 2
    assert sorted(e["address"] for e in detail["emails"] if e["outcome"] == "sent") == [
        "ana@example.org",
        "fay@example.org",
    ]
    assert [r["id"] for r in client.get("/api/v1/reminders/runs", **headers).json()] == [run_id]
    again = client.get("/api/v1/reminders/recipients", **headers).json()
    assert again["to_send"] == 0 and again["skipped"] == {"recent": 2}


def test_only_admins_of_the_organization(client: Any, org: Any, other_org: Any):
    viewer = create_user(org, "viewer@springfield.example.org", "viewer")
    assert client.get("/api/v1/reminders/recipients", **auth(viewer)).status_code == 403
    outsider = create_user(other_org, "admin@shelbyville.example.org", "admin")
    mine = ReminderRun.objects.create(organization=org)
    response = client.get(f"/api/v1/reminders/runs/{mine.pk}", **auth(outsider))
    assert response.status_code == 404
    response = client.get("/api/v1/reminders/runs?org=springfield", **auth(outsider))
    assert response.status_code == 404
