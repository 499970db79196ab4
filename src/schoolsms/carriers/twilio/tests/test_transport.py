"""Sending through the Messages API of a local fake Twilio: the requests it gets, concurrency
and connection reuse, synchronous refusals, retryable trouble, timeouts and lookups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from schoolsms import testing
from schoolsms.carriers.twilio import transport
from schoolsms.carriers.twilio.models import UnansweredCreate
from schoolsms.carriers.twilio.tests.conftest import ACCOUNT, FROM, TOKEN, run_worker, twilio_org
from schoolsms.carriers.twilio.tests.fake_twilio import FakeTwilio
from schoolsms.consent.models import ConsentRecord
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.gateway import OutboundMessage, gateway_for
from schoolsms.messaging.models import Broadcast, Message, ThrottleChunk
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast
from schoolsms.messaging.throttle import throttle_chunk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reconcile_soon(settings: Any) -> None:
    """No callbacks reach this test process: rows left Sending are settled by the reconciler,
    which asks the fake API (fetch by sid)."""
    settings.SCHOOLSMS_SEND_LEASE = 0.3


SERVICE = "MG" + "3c" * 16


def _audience(org: Any, count: int, start: int = 0) -> list[str]:
    phones = [f"+1217555{i:04d}" for i in range(start, start + count)]
    for i, phone in enumerate(phones):
        testing.create_contact(org, f"c{start + i}", [phone], consent="opted_in")
    return phones


def _outbound(message_id: int, to: str, body: str = "Hello from school") -> OutboundMessage:
    return OutboundMessage(message_id=message_id, to=to, sender="67587", body=body)


def test_a_create_sends_the_documented_fields_with_the_account_credentials(
    fake: FakeTwilio, settings: Any
) -> None:
    org = twilio_org()
    gateway = gateway_for(org.sender)
    [outcome] = gateway.send_batch([_outbound(1, "+12175550101")])
    assert outcome.kind == "accepted" and outcome.status == "sending"
    assert outcome.carrier_id in fake.messages
    [form] = fake.creates
    assert form == {
        "To": "+12175550101",
        "Body": "Hello from school",
        "From": FROM,
        "StatusCallback": f"{settings.SCHOOLSMS_PUBLIC_URL}/webhooks/twilio/status",
    }
    method, path = fake.requests[0]
    assert (method, path) == ("POST", f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json")


def test_a_messaging_service_send_is_accepted_and_stays_sending(fake: FakeTwilio) -> None:
    fake.progress = False
    org = twilio_org(messaging_service_sid=SERVICE)
    [outcome] = gateway_for(org.sender).send_batch([_outbound(1, "+12175550101")])
    assert fake.creates[0]["MessagingServiceSid"] == SERVICE and "From" not in fake.creates[0]
    assert fake.messages[outcome.carrier_id].status == "accepted"
    assert outcome.kind == "accepted" and outcome.status == "sending"


def test_a_wrong_token_is_refused_and_never_shown(fake: FakeTwilio, caplog: Any) -> None:
    org = twilio_org(token="wrong-token-0123456789")
    [outcome] = gateway_for(org.sender).send_batch([_outbound(1, "+12175550101")])
    assert outcome.kind == "refused" and outcome.code == "20003"
    assert "wrong-token-0123456789" not in caplog.text + outcome.detail


def test_requests_run_concurrently_over_reused_connections(fake: FakeTwilio) -> None:
    fake.latency = 0.1
    org = twilio_org(mps=100)
    gateway = gateway_for(org.sender)
    assert gateway.concurrency >= 10  # a short code's 100/s at ~100 ms per request
    messages = [_outbound(i, f"+1217555{i:04d}") for i in range(1, 61)]
    for start in range(0, 60, 20):
        outcomes = gateway.send_batch(messages[start : start + 20])
        assert [o.kind for o in outcomes] == ["accepted"] * 20
    assert fake.most_in_flight >= 10
    # Three batches of twenty, yet no more connections than one batch's requests at once.
    assert fake.connections <= 20


def test_a_throttled_send_reaches_the_rate_with_slow_requests(fake: FakeTwilio) -> None:
    """One worker, 100 ms per request, a limit of 40/s: chunks go out concurrently, so the
    broadcast is not held to the 10/s a single blocking connection could give."""
    fake.latency = 0.1
    org = twilio_org(mps=40)
    _audience(org, 40)
    make_broadcast(org)
    run_worker(horizon=2)
    assert len(fake.creates) == 40
    assert fake.most_in_flight > 1
    span = fake.create_times[-1] - fake.create_times[0]
    assert span < 39 / 10, f"40 creates took {span:.1f}s: no faster than one at a time"


def test_the_next_chunk_goes_while_the_last_ones_answers_are_still_coming(
    fake: FakeTwilio,
) -> None:
    """Half a second per request, a limit of 40/s (chunks of 8 every 0.2 s): the next chunk
    goes at its slot, not after the last one's answers, up to the gateway's concurrency."""
    fake.latency = 0.5
    org = twilio_org(mps=40)
    _audience(org, 40)
    broadcast = make_broadcast(org)
    run_worker(horizon=3)
    assert len(fake.creates) == 40
    chunk = throttle_chunk(40, 500, transport.concurrency_for(40))
    assert chunk < fake.most_in_flight <= transport.concurrency_for(40)
    # Each chunk counted against the limit until a second after its creates were written,
    # not after Twilio's answers.
    chunks = list(ThrottleChunk.objects.all())
    assert chunks and all(c.sent_at - c.released_at < fake.latency for c in chunks)
    assert set(Message.objects.filter(broadcast=broadcast).values_list("result", flat=True)) == {
        "sent"
    }


@pytest.mark.parametrize(
    "code, result, reason",
    [
        ("21211", "failed", "contact_account"),
        ("21614", "failed", "no_sms_capability"),
        ("21610", "ineligible", "opted_out"),
    ],
)
def test_synchronous_refusals_go_through_the_code_table(
    fake: FakeTwilio, code: str, result: str, reason: str
) -> None:
    org = twilio_org()
    [phone, other] = _audience(org, 2)
    fake.script[phone] = code
    broadcast = make_broadcast(org)
    run_worker(horizon=2)
    row = Message.objects.get(broadcast=broadcast, phone=phone)
    assert (row.result, row.reason, row.carrier_code) == (result, reason, code)
    assert fake.creates_to(phone) == 1  # not retried
    assert Message.objects.get(broadcast=broadcast, phone=other).result == "sent"
    if code == "21610":
        record = ConsentRecord.objects.get(sender=org.sender, phone=phone)
        assert record.status == "opted_out"


@pytest.mark.parametrize("trouble", ["http_500", "http_429"])
def test_5xx_and_429_are_retried_then_fail_as_carrier_error(
    fake: FakeTwilio, settings: Any, trouble: str
) -> None:
    settings.SCHOOLSMS_RETRY_BASE_DELAY = 0
    settings.SCHOOLSMS_RETRY_LIMIT = 3
    org = twilio_org()
    [phone] = _audience(org, 1)
    fake.script[phone] = trouble
    broadcast = make_broadcast(org)
    run_worker(horizon=2)
    row = Message.objects.get(broadcast=broadcast)
    assert (row.result, row.reason) == ("failed", "carrier_error")
    assert fake.creates_to(phone) == 3


def test_a_refused_connection_is_retryable(settings: Any) -> None:
    with FakeTwilio(accounts={ACCOUNT: TOKEN}) as gone:
        settings.SCHOOLSMS_TWILIO_API_URL = gone.url
    org = twilio_org()
    [outcome] = gateway_for(org.sender).send_batch([_outbound(1, "+12175550101")])
    assert (outcome.kind, outcome.code) == ("transient", "connection")
    assert not UnansweredCreate.objects.exists()  # it cannot have reached Twilio


def test_a_create_that_timed_out_is_looked_up_not_sent_again(
    fake: FakeTwilio, monkeypatch: Any
) -> None:
    monkeypatch.setattr(transport, "READ_TIMEOUT", 0.5)
    fake.progress = False
    org = twilio_org()
    fake.script["+12175550101"] = "hang"
    gateway = gateway_for(org.sender)
    [first] = gateway.send_batch([_outbound(7, "+12175550101")])
    assert (first.kind, first.code) == ("transient", "timeout")
    assert UnansweredCreate.objects.filter(message_ref=7).exists()
    [made] = fake.messages.values()  # Twilio did make it
    made.status, made.date_sent = "sent", dt.datetime.now(dt.UTC)
    [again] = gateway.send_batch([_outbound(7, "+12175550101")])
    assert (again.kind, again.carrier_id, again.status) == ("accepted", made.sid, "sent")
    assert fake.creates_to("+12175550101") == 1
    assert not UnansweredCreate.objects.exists()


def test_lookup_fetches_by_sid_or_finds_our_text_since_the_claim(fake: FakeTwilio) -> None:
    fake.progress = False
    org = twilio_org()
    _audience(org, 3)
    broadcast = make_broadcast(org, enqueue=False, text="Buses run late today.")
    Broadcast.objects.filter(pk=broadcast.pk).update(status="sending")
    broadcast_fan_out(broadcast_id=broadcast.pk)
    rows = list(Message.objects.filter(broadcast=broadcast).order_by("id"))
    gateway = gateway_for(org.sender)
    answers = gateway.send_batch(
        [_outbound(r.pk, r.phone or "", "Buses run late today.") for r in rows[:2]]
    )
    fake.messages[answers[0].carrier_id].status = "delivered"
    sent = fake.messages[answers[1].carrier_id]
    sent.status, sent.date_sent = "sent", dt.datetime.now(dt.UTC)
    claimed = timezone.now() - dt.timedelta(seconds=5)
    Message.objects.filter(pk__in=[r.pk for r in rows]).update(result="sending", claimed_at=claimed)
    Message.objects.filter(pk=rows[0].pk).update(carrier_message_id=answers[0].carrier_id)
    rows = list(Message.objects.filter(broadcast=broadcast).order_by("id"))
    by_sid = gateway.lookup(rows[0])
    assert (by_sid.found, by_sid.status) == (True, "delivered")
    assert ("GET", f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{answers[0].carrier_id}.json") in (
        fake.requests
    )
    adopted = gateway.lookup(rows[1])  # sent, its answer never stored
    assert (adopted.found, adopted.carrier_id, adopted.status) == (True, sent.sid, "sent")
    listed = [p for m, p in fake.requests if m == "GET" and "To=" in p]
    assert any("DateSent%3E=" in p for p in listed)
    never = gateway.lookup(rows[2])  # never created
    assert never.found is False
    # A sid another row already carries is not adopted twice.
    Message.objects.filter(pk=rows[0].pk).update(carrier_message_id=sent.sid)
    assert gateway.lookup(rows[1]).found is False
