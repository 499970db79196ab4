"""Sending end to end through the worker and the carrier simulator: every result and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from schoolsms import testing
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.consent.services import consent_change, number_block
from schoolsms.messaging import pipeline
from schoolsms.messaging.codes import retry_delay
from schoolsms.messaging.gateway import SendOutcome
from schoolsms.messaging.models import Broadcast, BroadcastStatus, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, outcomes, run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(org: Any, settings: Any) -> Any:
    settings.SCHOOLSMS_RETRY_BASE_DELAY = 0
    settings.SCHOOLSMS_RETRY_LIMIT = 3
    org.sender.mps = 0
    org.sender.save()
    return org


@pytest.fixture
def scenario(tmp_path: Path, settings: Any) -> Any:
    def write(codes: dict[str, str]) -> None:
        path = tmp_path / "scenario.csv"
        path.write_text("phone,error_code\n" + "".join(f"{p},{c}\n" for p, c in codes.items()))
        settings.SCHOOLSMS_SIMULATOR_SCENARIO = str(path)

    return write


def test_sent_rows_are_delivered_and_the_broadcast_completes(org: Any) -> None:
    testing.create_contact(org, "a", ["+12175550101", "+12175550102"], consent="opted_in")
    testing.create_contact(org, "b", ["+12175550103"], consent="opted_in")
    broadcast = make_broadcast(org)
    run_worker()
    messages = list(Message.objects.filter(broadcast=broadcast))
    assert {m.result for m in messages} == {"sent"}
    assert all(m.delivered_at and m.sent_at and m.carrier_message_id for m in messages)
    assert all(m.attempts == 1 for m in messages)
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE and broadcast.completed_at
    carrier = SimulatedMessage.objects.filter(message_ref__isnull=False)
    assert sorted(carrier.values_list("to", flat=True)) == [
        "+12175550101",
        "+12175550102",
        "+12175550103",
    ]
    assert set(carrier.values_list("status", flat=True)) == {"delivered"}


def test_carrier_codes_end_as_the_mapped_result_and_reason(org: Any, scenario: Any) -> None:
    codes = {
        "+12175550111": "21211",  # refused at send: invalid number
        "+12175550112": "21614",  # refused at send: not a mobile
        "+12175550113": "30003",  # accepted, then undelivered: unreachable
        "+12175550114": "30006",  # accepted, then undelivered: landline
        "+12175550115": "30007",  # accepted, then failed: spam filter
        "+12175550116": "21612",
        "+12175550117": "30005",
    }
    scenario(codes)
    for i, phone in enumerate([*codes, "+12175550118"]):
        testing.create_contact(org, f"c{i}", [phone], consent="opted_in")
    broadcast = make_broadcast(org)
    run_worker()
    assert outcomes(broadcast) == {
        "+12175550111": ("failed", "contact_account"),
        "+12175550112": ("failed", "no_sms_capability"),
        "+12175550113": ("failed", "contact_account"),
        "+12175550114": ("failed", "no_sms_capability"),
        "+12175550115": ("failed", "carrier_error"),
        "+12175550116": ("failed", "no_sms_capability"),
        "+12175550117": ("failed", "contact_account"),
        "+12175550118": ("sent", ""),
    }
    codes_kept = dict(
        Message.objects.filter(broadcast=broadcast).values_list("phone", "carrier_code")
    )
    assert codes_kept["+12175550113"] == "30003"
    assert codes_kept["+12175550111"] == "21211"
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.COMPLETE


def test_retryable_codes_are_retried_up_to_the_limit_then_fail(org: Any, scenario: Any) -> None:
    scenario({"+12175550121": "30001", "+12175550122": "30008", "+12175550123": "21611"})
    for i, phone in enumerate(["+12175550121", "+12175550122", "+12175550123"]):
        testing.create_contact(org, f"c{i}", [phone], consent="opted_in")
    broadcast = make_broadcast(org)
    run_worker()
    rows = {m.phone: m for m in Message.objects.filter(broadcast=broadcast)}
    assert {p: (m.result, m.reason) for p, m in rows.items()} == {
        "+12175550121": ("failed", "carrier_error"),
        "+12175550122": ("failed", "carrier_error"),
        "+12175550123": ("failed", "carrier_error"),
    }
    # SCHOOLSMS_RETRY_LIMIT=3 attempts; 30008 ("unknown error") is retried once only.
    assert rows["+12175550121"].attempts == 3
    assert rows["+12175550122"].attempts == 2
    assert rows["+12175550123"].attempts == 3
    sends = SimulatedMessage.objects.filter(message_ref__isnull=False)
    assert sends.filter(to="+12175550121").count() == 3  # one carrier message per attempt
    assert sends.filter(to="+12175550123").count() == 0  # refused at the API every time


def test_backoff_doubles_per_attempt(settings: Any) -> None:
    settings.SCHOOLSMS_RETRY_BASE_DELAY = 30
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]


def test_21610_makes_the_row_opted_out_and_records_the_carrier_as_source(
    org: Any, scenario: Any
) -> None:
    scenario({"+12175550131": "21610"})
    testing.create_contact(org, "a", ["+12175550131"], consent="opted_in")
    broadcast = make_broadcast(org)
    run_worker()
    assert outcomes(broadcast) == {"+12175550131": ("ineligible", "opted_out")}
    record = ConsentRecord.objects.get(sender=org.sender, phone="+12175550131")
    assert record.status == "opted_out"
    assert record.events.last().source == "carrier"


def test_stop_or_block_after_dispatch_stops_the_send(org: Any) -> None:
    testing.create_contact(org, "a", ["+12175550141"], consent="opted_in")
    testing.create_contact(org, "b", ["+12175550142"], consent="opted_in")
    testing.create_contact(org, "c", ["+12175550143"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    from schoolsms.messaging.dispatch import broadcast_fan_out

    broadcast_fan_out(broadcast_id=broadcast.pk)
    # Between dispatch and send: a STOP arrives, a number is blocked.
    consent_change(
        sender=org.sender, phone="+12175550141", new_status="opted_out", source="keyword"
    )
    number_block(organization=org, phone="+12175550142")
    pipeline.send_round(broadcast_id=broadcast.pk)
    assert outcomes(broadcast) == {
        "+12175550141": ("ineligible", "opted_out"),
        "+12175550142": ("ineligible", "blocked"),
        "+12175550143": ("sending", ""),
    }
    assert not SimulatedMessage.objects.filter(to__in=["+12175550141", "+12175550142"]).exists()


def test_a_canceled_broadcast_sends_nothing_more(org: Any) -> None:
    testing.create_contact(org, "a", ["+12175550151"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    from schoolsms.messaging.dispatch import broadcast_fan_out

    broadcast_fan_out(broadcast_id=broadcast.pk)
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=BroadcastStatus.CANCELED, canceled_at=timezone.now()
    )
    report = pipeline.send_round(broadcast_id=broadcast.pk)
    assert report.claimed == 0
    assert outcomes(broadcast) == {"+12175550151": ("not_sent_yet", "")}
    assert not SimulatedMessage.objects.exists()


def test_transient_gateway_errors_are_retried(org: Any, monkeypatch: Any) -> None:
    from schoolsms.carriers.simulator.transport import SimulatorGateway

    real = SimulatorGateway.send_batch
    calls = []

    def flaky(self: Any, messages: Any) -> Any:
        calls.append(len(messages))
        if len(calls) == 1:
            return [SendOutcome(m.message_id, "transient", code="timeout") for m in messages]
        return real(self, messages)

    monkeypatch.setattr(SimulatorGateway, "send_batch", flaky)
    testing.create_contact(org, "a", ["+12175550161"], consent="opted_in")
    broadcast = make_broadcast(org)
    run_worker()
    message = Message.objects.get(broadcast=broadcast)
    assert (message.result, message.attempts, message.carrier_code) == (
        "sent",
        2,
        "transport:timeout",
    )
    assert len(calls) == 2


def test_a_broadcast_with_nobody_to_send_to_completes_at_dispatch(org: Any) -> None:
    testing.create_contact(org, "a", [])
    broadcast = make_broadcast(org)
    run_worker()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE
    assert outcomes(broadcast) == {None: ("ineligible", "no_sms_number")}


def test_three_permanent_failures_in_a_row_mark_the_number_not_sms_capable(
    org: Any, scenario: Any
) -> None:
    from schoolsms.contacts.models import PhoneNumber
    from schoolsms.contacts.services import phone_capability_reset

    scenario({"+12175550171": "30006"})
    testing.create_contact(org, "a", ["+12175550171"], consent="opted_in")
    for _ in range(2):
        make_broadcast(org)
        run_worker()
    assert PhoneNumber.objects.get(phone="+12175550171").sms_capable
    make_broadcast(org)
    run_worker()
    assert not PhoneNumber.objects.get(phone="+12175550171").sms_capable
    fourth = make_broadcast(org)
    run_worker()
    assert outcomes(fourth) == {None: ("ineligible", "no_sms_number")}
    assert phone_capability_reset(organization=org, phone="+12175550171") == 1
    assert PhoneNumber.objects.get(phone="+12175550171").sms_capable


def test_a_success_breaks_the_run_of_failures(org: Any, scenario: Any, settings: Any) -> None:
    from schoolsms.contacts.models import PhoneNumber

    testing.create_contact(org, "a", ["+12175550181"], consent="opted_in")
    for code in ("30006", "30003", "", "30006", "30006"):
        scenario({"+12175550181": code} if code else {})
        make_broadcast(org)
        run_worker()
    assert PhoneNumber.objects.get(phone="+12175550181").sms_capable
    assert ConsentEvent.objects.count() == 1  # the opt-in only
