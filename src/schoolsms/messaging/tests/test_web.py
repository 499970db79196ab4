from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from schoolsms import testing
from schoolsms.messaging import services
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.tests.helpers import add_messages, make_audience

pytestmark = pytest.mark.django_db


def compose(client: Client, **data: Any) -> Any:
    form = {"name": "Snow day", "text": "Closed today", "audience": "all", "when": "now"}
    form.update(data)
    return client.post("/broadcasts/new/", form)


def test_list_shows_the_organizations_broadcasts_with_counts(
    admin_client: Client, org: Any, other_org: Any
) -> None:
    ours = services.broadcast_create(organization=org, name="Picture day", text="Smile")
    add_messages(ours, DeliveryResult.SENT, n=3)
    add_messages(ours, DeliveryResult.INELIGIBLE_TO_SEND, Reason.OPTED_OUT, n=2)
    services.broadcast_create(organization=other_org, name="Shelbyville news", text="Hi")
    page = admin_client.get("/broadcasts/").content.decode()
    assert "Picture day" in page and "Shelbyville news" not in page
    assert '<td class="num">5</td>' in page and '<td class="num">2</td>' in page


def test_compose_sends_now(
    admin_client: Client, org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_audience(org)
    with django_capture_on_commit_callbacks(execute=True):
        response = compose(admin_client, audience="filter", roles=["staff"], emergency="on")
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/broadcasts/{broadcast.pk}/"
    assert broadcast.status == BroadcastStatus.SCHEDULED
    assert broadcast.audience_roles == ["staff"] and broadcast.emergency
    assert broadcast.created_by is not None
    assert DBTaskResult.objects.ready().count() == 1


def test_compose_schedules_in_the_organizations_time_zone(admin_client: Client, org: Any) -> None:
    compose(admin_client, when="later", send_at="2099-03-02T07:15")
    broadcast = Broadcast.objects.get()
    assert broadcast.status == BroadcastStatus.SCHEDULED
    local = dt.datetime(2099, 3, 2, 7, 15, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert broadcast.scheduled_at == local
    page = admin_client.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert "Mar 2, 2099, 7:15 AM EST" in page


def test_compose_saves_a_draft_then_sends_it_from_its_page(admin_client: Client, org: Any) -> None:
    compose(admin_client, action="draft")
    broadcast = Broadcast.objects.get()
    assert broadcast.status == BroadcastStatus.DRAFT
    assert not DBTaskResult.objects.exists()
    response = admin_client.post(f"/broadcasts/{broadcast.pk}/send/", {"when": "now"}, follow=True)
    assert "is scheduled" in response.content.decode()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SCHEDULED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "a" * 470}, "The message is 4 SMS segments long"),
        ({"audience": "filter"}, "Choose at least one role or school."),
        ({"audience": "list", "external_ids": "S1, NOPE"}, "1 external id is not a contact"),
        ({"when": "later", "send_at": "2001-01-01T08:00"}, "This time has passed"),
        ({"when": "later"}, "Choose the date and time to send it."),
    ],
)
def test_compose_explains_what_is_wrong(
    admin_client: Client, org: Any, data: dict[str, str], message: str
) -> None:
    make_audience(org)
    response = compose(admin_client, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Broadcast.objects.exists()


def test_text_check_partial_points_out_ucs2_characters(admin_client: Client, org: Any) -> None:
    text = "Don\N{RIGHT SINGLE QUOTATION MARK}t be late ☕"
    html = admin_client.post("/broadcasts/new/check/", {"text": text}).content.decode()
    assert 'data-encoding="UCS-2"' in html and 'data-source="server"' in html
    assert "U+2019" in html and "at position 4" in html
    assert "<mark>\N{RIGHT SINGLE QUOTATION MARK}</mark>" in html
    html = admin_client.post("/broadcasts/new/check/", {"text": "x" * 470}).content.decode()
    assert "This message needs 4 segments; the limit is 3." in html


def test_audience_partial_counts_recipients(admin_client: Client, org: Any) -> None:
    make_audience(org)
    html = admin_client.post(
        "/broadcasts/new/audience/", {"audience": "filter", "roles": ["guardian"]}
    ).content.decode()
    assert 'data-contacts="3"' in html and "<strong>4</strong> SMS numbers" in html
    html = admin_client.post(
        "/broadcasts/new/audience/", {"audience": "list", "external_ids": "S1\nGHOST"}
    ).content.decode()
    assert 'data-contacts="1"' in html and "1 id not found: GHOST" in html


def test_progress_polls_while_sending_and_stops_when_complete(
    admin_client: Client, org: Any
) -> None:
    broadcast = services.broadcast_create(organization=org, name="N", text="Hi")
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    add_messages(broadcast, DeliveryResult.SENT, n=2)
    add_messages(broadcast, DeliveryResult.NOT_SENT_YET, n=2)
    html = admin_client.get(f"/broadcasts/{broadcast.pk}/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "2 of 4 messages finished (50%)" in html
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.COMPLETE)
    html = admin_client.get(f"/broadcasts/{broadcast.pk}/progress/").content.decode()
    assert "hx-trigger" not in html


def test_a_broadcast_scheduled_for_later_is_polled_less_often(
    admin_client: Client, org: Any
) -> None:
    broadcast = services.broadcast_create(organization=org, name="N", text="Hi")
    later = timezone.now() + dt.timedelta(days=1)
    Broadcast.objects.filter(pk=broadcast.pk).update(status="scheduled", scheduled_at=later)
    html = admin_client.get(f"/broadcasts/{broadcast.pk}/progress/").content.decode()
    assert 'hx-trigger="every 15s"' in html
    assert "Waiting to go out" in html


def test_cancel_from_the_page(admin_client: Client, org: Any) -> None:
    broadcast = services.broadcast_create(organization=org, name="N", text="Hi")
    response = admin_client.post(f"/broadcasts/{broadcast.pk}/cancel/", follow=True)
    assert "is canceled: nothing more will be sent" in response.content.decode()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.CANCELED


def test_another_organizations_broadcast_is_not_found(admin_client: Client, other_org: Any) -> None:
    theirs = services.broadcast_create(organization=other_org, name="N", text="Hi")
    assert admin_client.get(f"/broadcasts/{theirs.pk}/").status_code == 404
    assert admin_client.get(f"/broadcasts/{theirs.pk}/progress/").status_code == 404
    assert admin_client.post(f"/broadcasts/{theirs.pk}/cancel/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == BroadcastStatus.DRAFT


def test_viewers_cannot_use_the_broadcasts_tab(client: Client, org: Any) -> None:
    client.force_login(testing.create_user(org, "viewer@springfield.example.org", "viewer"))
    assert client.get("/broadcasts/").status_code == 403
    assert compose(client).status_code == 403
    assert not Broadcast.objects.exists()


def test_senders_can(client: Client, org: Any) -> None:
    client.force_login(testing.create_user(org, "sender@springfield.example.org", "sender"))
    assert client.get("/broadcasts/new/").status_code == 200
    assert compose(client).status_code == 302
