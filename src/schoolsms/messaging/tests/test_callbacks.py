"""Carrier callbacks through the simulator's webhook: signatures, forward-only receipts,
keywords. Over the Django test client and over real HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from schoolsms import testing
from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.config import auth_token
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.consent.models import ConsentRecord
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message

pytestmark = pytest.mark.django_db


def test_twilio_signature_test_vector() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_wire.sign(url=url, params=params, auth_token="12345") == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def _sending_row(org: Any, sid: str, phone: str = "+12175550101") -> Message:
    broadcast = Broadcast.objects.create(
        organization=org,
        name="b",
        text="hello",
        status=BroadcastStatus.SENDING,
        dispatched_at=timezone.now(),
        fanned_out_at=timezone.now(),
    )
    now = timezone.now()
    return Message.objects.create(
        broadcast=broadcast,
        organization=org,
        sender=org.sender,
        phone=phone,
        result="sending",
        carrier_message_id=sid,
        attempts=1,
        claimed_at=now,
        created_at=now,
        updated_at=now,
    )


def _post(
    client: Any, org: Any, params: dict[str, str], *, kind: str = "status", token: str | None = None
) -> Any:
    path = f"/carriers/simulator/{org.sender.code}/{kind}"
    url = django_settings.SCHOOLSMS_PUBLIC_URL + path
    signature = twilio_wire.sign(url=url, params=params, auth_token=token or auth_token(org.sender))
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def _status(sid: str, status: str, code: str = "") -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "AccountSid": "AC1",
        "From": "67587",
        "To": "+12175550101",
        "ApiVersion": "2010-04-01",
    }
    if code:
        params["ErrorCode"] = code
    return params


def test_a_bad_or_missing_signature_is_refused(client: Any, org: Any) -> None:
    message = _sending_row(org, "SM1")
    assert _post(client, org, _status("SM1", "sent"), token="wrong-token").status_code == 403
    response = client.post(
        f"/carriers/simulator/{org.sender.code}/status", data=_status("SM1", "sent")
    )
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.result == "sending"


def test_receipts_apply_forward_only(client: Any, org: Any) -> None:
    message = _sending_row(org, "SM2")
    assert _post(client, org, _status("SM2", "queued")).status_code == 200
    message.refresh_from_db()
    assert message.result == "sending"
    # Out of order: delivered before sent; then duplicates of both; then a stray failure.
    for status in ("delivered", "sent", "delivered", "sent"):
        assert _post(client, org, _status("SM2", status)).status_code == 200
    message.refresh_from_db()
    delivered_at = message.delivered_at
    assert (message.result, message.reason) == ("sent", "")
    assert message.sent_at and delivered_at
    _post(client, org, _status("SM2", "undelivered", "30003"))
    message.refresh_from_db()
    assert (message.result, message.delivered_at) == ("sent", delivered_at)
    assert Broadcast.objects.get(pk=message.broadcast_id).status == BroadcastStatus.COMPLETE


def test_a_failure_after_sent_turns_the_row_failed_once(client: Any, org: Any) -> None:
    message = _sending_row(org, "SM3")
    _post(client, org, _status("SM3", "sent"))
    _post(client, org, _status("SM3", "undelivered", "30006"))
    _post(client, org, _status("SM3", "undelivered", "30006"))
    _post(client, org, _status("SM3", "delivered"))
    message.refresh_from_db()
    assert (message.result, message.reason, message.carrier_code) == (
        "failed",
        "no_sms_capability",
        "30006",
    )
    assert message.delivered_at is None


def test_a_duplicated_retryable_failure_retries_once(client: Any, org: Any, settings: Any) -> None:
    settings.SCHOOLSMS_RETRY_BASE_DELAY = 60
    message = _sending_row(org, "SM4")
    _post(client, org, _status("SM4", "failed", "30001"))
    _post(client, org, _status("SM4", "failed", "30001"))
    message.refresh_from_db()
    assert (message.result, message.attempts, message.carrier_message_id) == (
        "not_sent_yet",
        1,
        None,
    )
    assert message.next_attempt_at > timezone.now()


def test_21610_in_a_callback_opts_the_number_out(client: Any, org: Any) -> None:
    message = _sending_row(org, "SM5", phone="+12175550105")
    _post(client, org, _status("SM5", "failed", "21610"))
    message.refresh_from_db()
    assert (message.result, message.reason) == ("ineligible", "opted_out")
    record = ConsentRecord.objects.get(sender=org.sender, phone="+12175550105")
    assert (record.status, record.events.last().source) == ("opted_out", "carrier")


def _inbound(body: str, phone: str = "+12175550190", sid: str = "") -> dict[str, str]:
    return {
        "From": phone,
        "To": "67587",
        "Body": body,
        "MessageSid": sid or f"SMin{abs(hash((body, phone))):x}",
        "AccountSid": "AC1",
        "NumSegments": "1",
    }


def test_keywords_change_consent_and_get_their_replies(client: Any, org: Any) -> None:
    phone = "+12175550190"
    testing.create_contact(org, "a", [phone], consent="opted_in")
    assert _post(client, org, _inbound("  Stop. "), kind="inbound").status_code == 200
    record = ConsentRecord.objects.get(sender=org.sender, phone=phone)
    event = record.events.last()
    assert (record.status, event.source, event.text) == ("opted_out", "keyword", "  Stop. ")
    _post(client, org, _inbound("start"), kind="inbound")
    record.refresh_from_db()
    assert record.status == "opted_in"
    replies = list(
        SimulatedMessage.objects.filter(to=phone).order_by("id").values_list("body", flat=True)
    )
    assert "no more messages" in replies[0]
    assert "Msg & data rates may apply" in replies[1] and "STOP" in replies[1]


def test_help_is_answered_even_for_a_stranger_and_other_texts_are_not(
    client: Any, org: Any
) -> None:
    stranger = "+12175550191"
    _post(client, org, _inbound("HELP", stranger), kind="inbound")
    _post(client, org, _inbound("what time is pickup?", stranger), kind="inbound")
    replies = list(SimulatedMessage.objects.filter(to=stranger).values_list("body", flat=True))
    assert len(replies) == 1
    assert org.sender.program_name in replies[0]
    assert org.sender.help_contact in replies[0]
    assert "Msg & data rates may apply" in replies[0] and "STOP" in replies[0]
    assert not ConsentRecord.objects.filter(phone=stranger).exists()


@pytest.mark.django_db(transaction=True)
def test_signed_callbacks_over_real_http(live_server: Any, settings: Any) -> None:
    org = testing.create_org()
    message = _sending_row(org, "SM6")
    settings.SCHOOLSMS_PUBLIC_URL = live_server.url

    def post(params: dict[str, str], token: str) -> int:
        url = f"{live_server.url}/carriers/simulator/{org.sender.code}/status"
        signature = twilio_wire.sign(url=url, params=params, auth_token=token)
        request = Request(  # noqa: S310 (our live server)
            url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
        )
        try:
            with urlopen(request, timeout=10) as response:  # noqa: S310 (our live server)
                return int(response.status)
        except Exception as exc:  # urllib raises for 4xx
            return int(getattr(exc, "code", 0))

    assert post(_status("SM6", "delivered"), "not-the-token") == 403
    assert post(_status("SM6", "delivered"), auth_token(org.sender)) == 200
    message.refresh_from_db()
    assert message.result == "sent" and message.delivered_at
