"""Styled 403, 404 and 500 pages: the tabs, what happened in plain words, and a way back."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from schoolsms import testing
from schoolsms.core import views

pytestmark = pytest.mark.django_db


def test_not_found_keeps_the_tabs_and_leads_back_to_the_tab(admin_client: Client) -> None:
    response = admin_client.get("/broadcasts/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in page and 'aria-label="Main"' in page
    assert (
        '<a href="/broadcasts/" role="button" class="secondary outline">Back to Broadcasts' in page
    )
    # An address no view knows gets the same page.
    assert "There is nothing here" in admin_client.get("/no-such-page/").content.decode()


def test_forbidden_says_why(client: Client, org: Any) -> None:
    client.force_login(testing.create_user(org, "viewer@springfield.example.org", "viewer"))
    response = client.get("/broadcasts/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "You cannot open this page" in page and "Your role" in page
    assert 'aria-label="Main"' in page and "Go to the start page" in page


def test_server_error_page(admin_user: Any) -> None:
    request = RequestFactory().get("/reports/sms-log/")
    request.user = admin_user
    request.session = {}  # type: ignore[assignment]
    response = views.server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and "Back to Reports" in page
