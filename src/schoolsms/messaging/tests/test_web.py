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
    form = {
        "name": "Snow day",
        "text": "Closed today",
        "audience": "all",
        "when": "now",
        "confirmed": "yes",
    }
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
    assert "Mar 2, 2099, 7:15 AM" in page and "Times are America/New_York time" in page


def test_compose_saves_a_draft_then_sends_it_from_its_page(admin_client: Client, org: Any) -> None:
    compose(admin_client, action="draft")
    broadcast = Broadcast.objects.get()
    assert broadcast.status == BroadcastStatus.DRAFT
    assert not DBTaskResult.objects.exists()
    asked = admin_client.post(f"/broadcasts/{broadcast.pk}/send/", {"when": "now"})
    assert "Text 0 numbers now?" in asked.content.decode()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.DRAFT
    response = admin_client.post(
        f"/broadcasts/{broadcast.pk}/send/", {"when": "now", "confirmed": "yes"}, follow=True
    )
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
    assert 'data-contacts="3"' in html and 'data-to-send="4"' in html
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


def test_sending_asks_first_with_who_will_and_will_not_get_it(
    admin_client: Client, org: Any
) -> None:
    make_audience(org)
    testing.create_contact(org, "P1", ["+12025550107"], consent="pending")
    testing.create_contact(org, "P2", ["+12025550108"], consent="pending")
    testing.create_contact(org, "O1", ["+12025550109"], consent="opted_out")
    testing.create_contact(org, "D1", ["+12025550105"], consent="opted_in")  # T1's number
    response = compose(admin_client, confirmed="")
    page = response.content.decode()
    assert response.status_code == 200 and not Broadcast.objects.exists()
    assert "Text 5 numbers now?" in page
    assert (
        "5 will be skipped: 2 Pending Opt-In, 1 Opted Out, 1 No SMS number, 1 Duplicates." in page
    )
    # The page posts the same form again, now confirmed.
    assert '<input type="hidden" name="text" value="Closed today">' in page
    assert 'name="confirmed" value="yes"' in page
    # "Go back and edit" brings the form back as typed, sending nothing.
    back = compose(admin_client, confirmed="", edit="1", name="Snow day!").content.decode()
    assert "<h1>New broadcast</h1>" in back and 'value="Snow day!"' in back
    assert not Broadcast.objects.exists()


def test_scheduling_asks_with_the_local_time(admin_client: Client, org: Any) -> None:
    page = compose(
        admin_client, confirmed="", when="later", send_at="2099-03-02T07:15"
    ).content.decode()
    assert "Schedule a text to 0 numbers for Mar 2, 2099, 7:15 AM?" in page
    assert not Broadcast.objects.exists()


def test_cancel_of_a_broadcast_going_out_asks_first(admin_client: Client, org: Any) -> None:
    broadcast = services.broadcast_create(organization=org, name="N", text="Hi")
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    add_messages(broadcast, DeliveryResult.SENT, n=2)
    add_messages(broadcast, DeliveryResult.NOT_SENT_YET, n=3)
    page = admin_client.post(f"/broadcasts/{broadcast.pk}/cancel/").content.decode()
    assert "Cancel “N”?" in page and "3 messages not sent yet will never be sent." in page
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENDING
    admin_client.post(f"/broadcasts/{broadcast.pk}/cancel/", {"confirmed": "yes"})
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.CANCELED


def test_a_draft_can_be_edited_and_deleted(admin_client: Client, org: Any) -> None:
    make_audience(org)
    compose(admin_client, action="draft", confirmed="")
    draft = Broadcast.objects.get()
    page = admin_client.get(f"/broadcasts/{draft.pk}/").content.decode()
    assert "Delete draft" in page and "Cancel broadcast" not in page and "Edit draft" in page
    form = admin_client.get(f"/broadcasts/{draft.pk}/edit/").content.decode()
    assert 'value="Snow day"' in form and "Closed today</textarea>" in form
    admin_client.post(
        f"/broadcasts/{draft.pk}/edit/",
        {
            "name": "Snow day 2",
            "text": "Closed again",
            "audience": "filter",
            "roles": ["staff"],
            "when": "now",
            "action": "draft",
        },
    )
    draft.refresh_from_db()
    assert (draft.name, draft.text, draft.audience_roles) == (
        "Snow day 2",
        "Closed again",
        ["staff"],
    )
    assert draft.status == BroadcastStatus.DRAFT
    asked = admin_client.post(f"/broadcasts/{draft.pk}/delete/").content.decode()
    assert "Delete the draft “Snow day 2”?" in asked and Broadcast.objects.exists()
    response = admin_client.post(f"/broadcasts/{draft.pk}/delete/", {"confirmed": "yes"})
    assert response["Location"] == "/broadcasts/" and not Broadcast.objects.exists()


def test_only_a_draft_can_be_deleted(admin_client: Client, org: Any) -> None:
    broadcast = services.broadcast_create(organization=org, name="N", text="Hi")
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    admin_client.post(f"/broadcasts/{broadcast.pk}/delete/", {"confirmed": "yes"})
    assert Broadcast.objects.filter(pk=broadcast.pk).exists()


def test_reasons_are_grouped_in_plain_words_and_link_to_the_sms_log(
    admin_client: Client, org: Any
) -> None:
    broadcast = services.broadcast_create(organization=org, name="N", text="Hi")
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.COMPLETE)
    add_messages(broadcast, DeliveryResult.INELIGIBLE_TO_SEND, Reason.OPTED_OUT, n=2)
    add_messages(broadcast, DeliveryResult.FAILED_TO_SEND, Reason.CARRIER_ERROR)
    html = admin_client.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert "<h3>Ineligible to Send: why</h3>" in html and "<h3>Failed to Send: why</h3>" in html
    assert "opted_out</code>" not in html and Reason.OPTED_OUT.label in html
    # The organization's date (not UTC's: they differ in the evening in New York).
    local = zoneinfo.ZoneInfo(org.timezone)
    day = timezone.localtime(broadcast.created_at, local).date().isoformat()
    assert (
        f'href="/reports/sms-log/?broadcast={broadcast.pk}&amp;from={day}&amp;reason=opted_out"'
        in html
    )
    assert f'href="/reports/sms-log/?broadcast={broadcast.pk}&amp;from={day}"' in html
