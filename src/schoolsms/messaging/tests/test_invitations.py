"""Opt-in invitations end to end: who gets one (Pending Opt-In, never invited, not blocked), in
which language, through the worker and the simulator; the reply Y; the 30-day rule; a changed
number; after an import; the confirmation page; the SMS Log and the number's history."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from schoolsms import testing
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.config import auth_token
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.consent.models import ConsentRecord
from schoolsms.consent.services import consent_change, number_block
from schoolsms.contacts.models import PhoneNumber
from schoolsms.contacts.services import contacts_import
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.invitations import invitable_counts
from schoolsms.messaging.models import Broadcast, Message
from schoolsms.messaging.replies import BUILT_IN
from schoolsms.messaging.services import invitations_send
from schoolsms.messaging.tasks import broadcast_send_enqueue
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = pytest.mark.django_db

ANA, BEA, CAL, DEE, EVE, FAY = (f"+1217555{n:04d}" for n in range(110, 116))


@pytest.fixture
def district(org: Any) -> Any:
    testing.create_contact(org, "a", [ANA], consent="pending")
    testing.create_contact(org, "b", [BEA], consent="pending", language="es")
    testing.create_contact(org, "c", [CAL], consent="opted_out")
    testing.create_contact(org, "d", [DEE], consent="pending")
    number_block(organization=org, phone=DEE)
    testing.create_contact(org, "e", [EVE], consent="opted_in")
    testing.create_contact(org, "f", [(FAY, False)])
    testing.create_contact(org, "g", [ANA], language="es")  # shares Ana's number
    return org


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Work queued on commit (dispatch tasks, the after-import hook) runs, as it would after
    the commit the test's own transaction never makes."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def texts_to(phone: str) -> list[str]:
    return list(
        SimulatedMessage.objects.filter(to=phone).order_by("id").values_list("body", flat=True)
    )


def invitation(language: str, org: Any) -> str:
    return BUILT_IN[language]["invitation"].replace("{program}", org.sender.program_name)


def inbound(client: Any, org: Any, phone: str, body: str, sid: str) -> None:
    params = {"From": phone, "To": org.sender.code, "Body": body, "MessageSid": sid}
    path = f"/carriers/simulator/{org.sender.code}/inbound"
    url = django_settings.SCHOOLSMS_PUBLIC_URL + path
    client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_wire.sign(
            url=url, params=params, auth_token=auth_token(org.sender)
        )},
    )  # fmt: skip


def test_pending_numbers_get_one_invitation_in_their_language_and_can_reply_y(
    client: Any, district: Any, committed: Any
) -> None:
    assert invitable_counts(organization=district) == {"en": 1, "es": 1}
    with committed():
        made = invitations_send(organization=district)
    assert sorted(b.name for b in made) == [
        "Opt-in invitation (English)",
        "Opt-in invitation (Spanish)",
    ]
    run_worker()
    assert texts_to(ANA) == [invitation("en", district)]  # once, in the first contact's language
    assert texts_to(BEA) == [invitation("es", district)]
    for phone in (CAL, DEE, EVE, FAY):  # opted out, blocked, opted in, not an SMS number
        assert texts_to(phone) == []
    rows = Message.objects.filter(broadcast__in=made)
    assert sorted(rows.values_list("phone", "result")) == [(ANA, "sent"), (BEA, "sent")]
    assert all(m.delivered_at for m in rows)
    # Nobody is invited twice.
    assert invitable_counts(organization=district) == {"en": 0, "es": 0}
    assert invitations_send(organization=district) == []
    inbound(client, district, ANA, "Y", "SMreply1")
    assert ConsentRecord.objects.get(sender=district.sender, phone=ANA).status == "opted_in"
    assert "subscribed" in texts_to(ANA)[-1]


def test_a_changed_number_is_invited_and_the_30_day_rule_holds(
    district: Any, committed: Any
) -> None:
    with committed():
        invitations_send(organization=district)
    run_worker()
    # Bea's number changes: the new one is Pending Opt-In and never invited.
    new = "+12175550120"
    PhoneNumber.objects.filter(phone=BEA).update(phone=new)
    consent_change(sender=district.sender, phone=new, new_status="pending", source="import")
    assert invitable_counts(organization=district) == {"en": 0, "es": 1}
    # Ana says STOP, later an admin puts her back to Pending: not within 30 days of the last
    # invitation, but after that.
    consent_change(sender=district.sender, phone=ANA, new_status="opted_out", source="keyword")
    consent_change(sender=district.sender, phone=ANA, new_status="pending", source="admin")
    assert invitable_counts(organization=district)["en"] == 0
    later = timezone.now() + dt.timedelta(days=31)
    assert invitable_counts(organization=district, now=later) == {"en": 1, "es": 1}


def test_a_stop_before_the_invitation_goes_out_stops_it(district: Any) -> None:
    made = invitations_send(organization=district)  # not committed: no dispatch task yet
    # The fan-out happens, then Bea texts STOP before the send round.
    Broadcast.objects.filter(pk__in=[b.pk for b in made]).update(status="sending")
    for b in made:
        broadcast_fan_out(broadcast_id=b.pk)
    assert Message.objects.get(broadcast__in=made, phone=BEA).result == "not_sent_yet"
    consent_change(sender=district.sender, phone=BEA, new_status="opted_out", source="keyword")
    for b in made:
        broadcast_send_enqueue(b.pk)
    run_worker()
    bea = Message.objects.get(broadcast__in=made, phone=BEA)
    assert (bea.result, bea.reason) == ("ineligible", "opted_out")
    assert texts_to(BEA) == []
    # Pending Opt-In is what an invitation is for: the re-check lets Ana's go.
    assert Message.objects.get(broadcast__in=made, phone=ANA).result == "sent"


CSV = "external_id,first_name,last_name,language,phone1\nn1,Nia,Cole,es,(217) 555-0130\n"


def test_after_an_import_when_the_organization_turned_it_on(district: Any, committed: Any) -> None:
    with committed():
        contacts_import(organization=district, file=io.BytesIO(CSV.encode()))
    assert not Broadcast.objects.filter(kind="invitation").exists()
    district.invite_after_import = True
    district.save()
    with committed():
        contacts_import(
            organization=district, file=io.BytesIO(CSV.replace("0130", "0131").encode())
        )
    run_worker()
    # Ana and Bea were never invited either: they are Pending, so they get theirs now too.
    assert texts_to("+12175550131") == [invitation("es", district)]
    assert texts_to("+12175550130") == []  # replaced by the second file: not an SMS number now
    assert len(texts_to(ANA)) == 1


def test_the_confirmation_shows_the_count_and_sending_needs_the_post(
    admin_client: Any, district: Any, committed: Any
) -> None:
    status_page = admin_client.get("/reports/sms-status/").content.decode()
    assert 'href="/broadcasts/invitations/"' in status_page
    page = admin_client.get("/broadcasts/invitations/").content.decode()
    assert "Send the invitation to 2 numbers" in page
    assert not Broadcast.objects.filter(kind="invitation").exists()
    with committed():
        assert admin_client.post("/broadcasts/invitations/").status_code == 302
    run_worker()
    assert len(texts_to(ANA)) == 1
    page = admin_client.get("/broadcasts/invitations/").content.decode()
    assert "No Pending Opt-In number is due an invitation" in page
    log = admin_client.get("/reports/sms-log/").content.decode()
    assert log.count('data-kind="invitation"') == 2
    lookup = admin_client.get("/reports/sms-status/", {"number": ANA}).content.decode()
    history = lookup.split('id="invitation-history"')[1].split("</table>")[0]
    assert "Opt-in invitation (English)" in history and "<td>Sent</td>" in history


def test_viewers_cannot_send_invitations(client: Any, district: Any) -> None:
    client.force_login(testing.create_user(district, "v@springfield.example.org", "viewer"))
    assert client.post("/broadcasts/invitations/").status_code == 403
    assert (
        'href="/broadcasts/invitations/"' not in client.get("/reports/sms-status/").content.decode()
    )
    assert not Broadcast.objects.filter(kind="invitation").exists()


def test_admins_turn_invitations_after_import_on(admin_client: Any, org: Any) -> None:
    response = admin_client.post(
        "/settings/replies/", {"form": "invitations", "invite_after_import": "on"}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.invite_after_import
    admin_client.post("/settings/replies/", {"form": "invitations"})
    org.refresh_from_db()
    assert not org.invite_after_import


def test_the_contact_page_shows_each_numbers_invitations_and_texts(
    admin_client: Any, district: Any, committed: Any
) -> None:
    with committed():
        invitations_send(organization=district)
    run_worker()
    inbound(admin_client, district, BEA, "Y", "SMy1")
    contact = district.contacts.get(external_id="b")
    html = admin_client.get(f"/contacts/{contact.pk}/").content.decode()
    section = html.split('class="contact-texts"')[1].split("</section>")[0]
    assert "Opt-in invitation (Spanish)" in section and "Sent" in section
    assert "Texted “Y” (Opt-in)" in section and "Pending Opt-In → Opted In" in section
