"""Twilio's webhooks over real HTTP: signed status callbacks from the fake Twilio while a
broadcast goes out, forged and replayed requests, and inbound texts answered as TwiML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from django.utils import timezone
from twilio.request_validator import RequestValidator

from schoolsms import testing
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.twilio.models import HeldStatus
from schoolsms.carriers.twilio.tests.conftest import (
    ACCOUNT,
    FROM,
    OTHER_ACCOUNT,
    OTHER_TOKEN,
    TOKEN,
    run_worker,
    twilio_org,
)
from schoolsms.carriers.twilio.tests.fake_twilio import FakeTwilio
from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.messaging.models import InboundText, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast

PARENT = "+12175550142"


def test_signatures_match_the_published_test_vector() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    expected = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert RequestValidator("12345").validate(url, params, expected)
    assert twilio_wire.sign(url=url, params=params, auth_token="12345") == expected
    assert not RequestValidator("12346").validate(url, params, expected)


def _audience(org: Any, count: int) -> list[str]:
    phones = [f"+1217555{i:04d}" for i in range(count)]
    for i, phone in enumerate(phones):
        testing.create_contact(org, f"c{i}", [phone], consent="opted_in")
    return phones


def _assert_all_delivered(broadcast: Any, count: int) -> None:
    rows = list(Message.objects.filter(broadcast=broadcast).values("result", "delivered_at"))
    assert len(rows) == count
    assert {r["result"] for r in rows} == {"sent"}
    assert all(r["delivered_at"] for r in rows)


@pytest.mark.django_db(transaction=True)
def test_a_broadcast_is_settled_by_signed_callbacks_over_http(
    fake: FakeTwilio, public: str
) -> None:
    fake.callbacks = True
    org = twilio_org()
    _audience(org, 6)
    broadcast = make_broadcast(org)
    run_worker(horizon=5)
    fake.wait_callbacks()
    _assert_all_delivered(broadcast, 6)
    assert fake.callback_answers == [200] * 12  # sent and delivered for each
    assert {f["StatusCallback"] for f in fake.creates} == {f"{public}/webhooks/twilio/status"}


@pytest.mark.django_db(transaction=True)
def test_callbacks_that_overtake_the_create_answer_are_kept_then_applied(
    fake: FakeTwilio, public: str
) -> None:
    fake.callbacks = True
    fake.callback_first = True  # `sent` arrives before the create is even answered
    org = twilio_org()
    _audience(org, 4)
    broadcast = make_broadcast(org)
    run_worker(horizon=5)
    fake.wait_callbacks()
    run_worker(horizon=5)
    _assert_all_delivered(broadcast, 4)
    assert set(fake.callback_answers) == {200}
    assert not HeldStatus.objects.exists()


def _sending_row(org: Any, sid: str) -> Message:
    testing.create_contact(org, "c-row", [PARENT], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    now = timezone.now()
    return Message.objects.create(
        broadcast=broadcast,
        organization=org,
        sender=org.sender,
        phone=PARENT,
        result="sending",
        carrier_message_id=sid,
        attempts=1,
        claimed_at=now,
        created_at=now,
        updated_at=now,
    )


def _status(sid: str, status: str, account: str = ACCOUNT, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": account,
        "ApiVersion": "2010-04-01",
        "From": FROM,
        "To": PARENT,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_forged_callbacks_are_refused_and_change_nothing(fake: FakeTwilio, public: str) -> None:
    org = twilio_org()
    row = _sending_row(org, "SM" + "a1" * 16)
    url = f"{public}/webhooks/twilio/status"
    form = _status(row.carrier_message_id or "", "delivered")
    unsigned = requests.post(url, data=form, timeout=10)
    assert unsigned.status_code == 403
    for token in ("not-the-token", OTHER_TOKEN):
        assert fake.post_signed(url, form, token).status_code == 403
    # Signed for another address (with a query string) than the one it was posted to.
    signature = RequestValidator(TOKEN).compute_signature(url + "?x=1", form)
    moved = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert moved.status_code == 403
    row.refresh_from_db()
    assert (row.result, row.delivered_at) == ("sending", None)
    assert not HeldStatus.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_callback_only_changes_messages_of_the_sender_whose_token_signed_it(
    fake: FakeTwilio, public: str
) -> None:
    org = twilio_org()
    twilio_org("shelbyville", "67588", account=OTHER_ACCOUNT, token=OTHER_TOKEN)
    row = _sending_row(org, "SM" + "b2" * 16)
    url = f"{public}/webhooks/twilio/status"
    sid = row.carrier_message_id or ""
    answer = fake.post_signed(
        url, _status(sid, "failed", OTHER_ACCOUNT, ErrorCode="30003"), OTHER_TOKEN
    )
    assert answer.status_code == 200
    row.refresh_from_db()
    assert row.result == "sending"
    assert fake.post_signed(url, _status(sid, "sent"), TOKEN).status_code == 200
    row.refresh_from_db()
    assert row.result == "sent"


@pytest.mark.django_db(transaction=True)
def test_duplicate_and_late_callbacks_never_move_a_message_back(
    fake: FakeTwilio, public: str
) -> None:
    org = twilio_org()
    row = _sending_row(org, "SM" + "c3" * 16)
    url = f"{public}/webhooks/twilio/status"
    sid = row.carrier_message_id or ""
    for status in ("delivered", "sent", "delivered", "queued", "sending"):
        assert fake.post_signed(url, _status(sid, status), TOKEN).status_code == 200
    row.refresh_from_db()
    assert row.result == "sent" and row.delivered_at is not None
    delivered_at = row.delivered_at
    answer = fake.post_signed(url, _status(sid, "undelivered", ErrorCode="30003"), TOKEN)
    assert answer.status_code == 200
    row.refresh_from_db()
    assert (row.result, row.delivered_at) == ("sent", delivered_at)


@pytest.mark.django_db(transaction=True)
def test_an_unknown_sid_is_answered_200_and_kept(fake: FakeTwilio, public: str) -> None:
    twilio_org()
    url = f"{public}/webhooks/twilio/status"
    answer = fake.post_signed(url, _status("SM" + "d4" * 16, "sent"), TOKEN)
    assert answer.status_code == 200
    assert HeldStatus.objects.filter(sid="SM" + "d4" * 16, status="sent").exists()


def _inbound(body: str, sid: str, sender: str = PARENT) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "From": sender,
        "To": "67587",
        "Body": body,
        "MessageSid": sid,
        "SmsSid": sid,
        "NumSegments": "1",
        "NumMedia": "0",
    }


def _messages(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)  # noqa: S314 (our own server's answer)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


@pytest.mark.django_db(transaction=True)
def test_stop_over_the_signed_webhook_makes_the_next_broadcast_ineligible(
    fake: FakeTwilio, public: str
) -> None:
    org = twilio_org()
    testing.create_contact(org, "parent", [PARENT], consent="opted_in")
    url = f"{public}/webhooks/twilio/inbound"
    forged = fake.post_signed(url, _inbound("STOP", "SM" + "e5" * 16), OTHER_TOKEN)
    assert forged.status_code == 403
    assert ConsentRecord.objects.get(sender=org.sender, phone=PARENT).status == "opted_in"
    answer = fake.post_signed(url, _inbound(" stop ", "SM" + "e6" * 16), TOKEN)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
    [reply] = _messages(answer.text)
    assert reply
    assert ConsentRecord.objects.get(sender=org.sender, phone=PARENT).status == "opted_out"
    events = ConsentEvent.objects.filter(record__phone=PARENT).count()
    # Twilio retries a webhook it thinks failed: the same MessageSid changes nothing again.
    replayed = fake.post_signed(url, _inbound(" stop ", "SM" + "e6" * 16), TOKEN)
    assert replayed.status_code == 200 and _messages(replayed.text) == []
    assert ConsentEvent.objects.filter(record__phone=PARENT).count() == events
    assert InboundText.objects.filter(phone=PARENT).count() == 1
    broadcast = make_broadcast(org)
    run_worker(horizon=2)
    row = Message.objects.get(broadcast=broadcast, phone=PARENT)
    assert (row.result, row.reason) == ("ineligible", "opted_out")
    assert fake.creates_to(PARENT) == 0


@pytest.mark.django_db(transaction=True)
def test_inbound_from_a_number_that_is_not_e164_changes_no_consent(
    fake: FakeTwilio, public: str, caplog: Any
) -> None:
    org = twilio_org()
    url = f"{public}/webhooks/twilio/inbound"
    for sender in ("SCHOOL", "12345", "217-555-0142"):
        answer = fake.post_signed(url, _inbound("STOP", "SM" + "f7" * 16, sender), TOKEN)
        assert answer.status_code == 200
        assert _messages(answer.text) == []
    assert not ConsentRecord.objects.filter(sender=org.sender).exists()


@pytest.mark.django_db(transaction=True)
def test_help_is_answered_as_one_twiml_message_even_for_strangers(
    fake: FakeTwilio, public: str
) -> None:
    org = twilio_org()
    url = f"{public}/webhooks/twilio/inbound"
    answer = fake.post_signed(url, _inbound("help", "SM" + "a8" * 16), TOKEN)
    [reply] = _messages(answer.text)
    assert org.sender.program_name in reply and "STOP" in reply
    quiet = fake.post_signed(url, _inbound("see you at pickup", "SM" + "a9" * 16), TOKEN)
    assert quiet.status_code == 200 and _messages(quiet.text) == []
