from __future__ import annotations

from typing import Any

import pytest

from schoolsms import testing

pytestmark = pytest.mark.django_db


def test_login_locks_out_after_repeated_failures(client: Any, org: Any) -> None:
    testing.create_user(org, "ann@springfield.example.org")
    for _ in range(5):
        response = client.post(
            "/login/", {"username": "ann@springfield.example.org", "password": "wrong"}
        )
    response = client.post(
        "/login/", {"username": "ann@springfield.example.org", "password": testing.PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()


def test_login_then_home_redirects_into_a_tab(client: Any, org: Any) -> None:
    testing.create_user(org, "ann@springfield.example.org")
    response = client.post(
        "/login/",
        {"username": "ann@springfield.example.org", "password": testing.PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.is_authenticated


def test_api_schema_is_served(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "SchoolSMS API"
