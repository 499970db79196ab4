"""Every edge of a message row's lifecycle, one test each: the move it makes, and the
compare-and-set that leaves a row in another state alone. The Message docstring's diagram
lists exactly these edges (transitions.EDGES)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from schoolsms import testing
from schoolsms.accounts.models import Organization
from schoolsms.messaging import transitions
from schoolsms.messaging.dispatch import broadcast_fan_out
from schoolsms.messaging.models import Broadcast, BroadcastKind, BroadcastStatus, Message
from schoolsms.messaging.transitions import EDGES, NEW, Edge

NOT_SENT, SENDING, SENT = "Not Sent Yet", "Sending", "Sent"
INELIGIBLE, FAILED = "Ineligible to Send", "Failed to Send"
NOW = timezone.now().replace(microsecond=0)
LATER = NOW + dt.timedelta(minutes=5)
TESTED: set[Edge] = set()


def edge(source: str, target: str, transition: str) -> Callable[[Any], Any]:
    """Marks the test of one edge (checked against EDGES at the end)."""
    TESTED.add(Edge(source, target, transition))
    return lambda test: test


def _db(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _row(org: Organization, result: str = "not_sent_yet", **fields: Any) -> Message:
    broadcast = Broadcast.objects.create(
        organization=org, name="Snow day", text="School is closed.", status=BroadcastStatus.SENDING
    )
    if result in ("sending", "sent"):
        fields.setdefault("claimed_at", NOW)
        fields.setdefault("attempts", 1)
    if result == "sent":
        fields.setdefault("sent_at", NOW)
    return Message.objects.create(
        broadcast=broadcast,
        organization=org,
        sender=org.sender,
        phone="+12175550100",
        result=result,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


def _state(row: Message) -> tuple[str, str]:
    row.refresh_from_db()
    return row.result, row.reason


# -- (new row) ---------------------------------------------------------------------------------


@edge(NEW, NOT_SENT, "fan_out_sql")
@edge(NEW, INELIGIBLE, "fan_out_sql")
def test_fan_out_makes_rows_not_sent_yet_or_ineligible(org: Organization) -> None:
    testing.create_contact(org, "in", ["+12175550101"], consent="opted_in")
    testing.create_contact(org, "pending", ["+12175550102"], consent="pending")
    broadcast = Broadcast.objects.create(
        organization=org, name="Snow day", text="Closed.", status=BroadcastStatus.SENDING
    )
    assert broadcast_fan_out(broadcast_id=broadcast.pk) == 2
    assert dict(Message.objects.values_list("phone", "result")) == {
        "+12175550101": "not_sent_yet",
        "+12175550102": "ineligible",
    }


@edge(NEW, NOT_SENT, "invitation_rows_sql")
def test_an_invitation_makes_rows_for_pending_numbers(org: Organization) -> None:
    testing.create_contact(org, "pending", ["+12175550103"], consent="pending")
    testing.create_contact(org, "in", ["+12175550104"], consent="opted_in")
    broadcast = Broadcast.objects.create(
        organization=org,
        name="Invitation",
        text="Reply Y to get texts.",
        status=BroadcastStatus.SENDING,
        kind=BroadcastKind.INVITATION,
    )
    assert broadcast_fan_out(broadcast_id=broadcast.pk) == 1
    assert list(Message.objects.values_list("phone", "result", "reason")) == [
        ("+12175550103", "not_sent_yet", "")
    ]


# -- a worker's claim --------------------------------------------------------------------------


@edge(NOT_SENT, SENDING, "rows_claim")
def test_claim(org: Organization) -> None:
    row = _row(org)
    sent = _row(org, "sent", carrier_message_id="SM1")
    [claimed] = transitions.rows_claim(broadcast_id=row.broadcast_id, limit=10, now=NOW)
    assert (claimed.id, claimed.attempts) == (row.pk, 1)
    assert _state(row) == ("sending", "") and row.claimed_at == NOW
    # Only Not Sent Yet rows are claimed.
    assert transitions.rows_claim(broadcast_id=sent.broadcast_id, limit=10, now=NOW) == []
    assert _state(sent) == ("sent", "")


def _claimed(org: Organization) -> tuple[Message, Message]:
    """A row claimed at NOW, and one whose claim the reconciler took over."""
    return _row(org, "sending"), _row(org, "sending", claimed_at=LATER)


@edge(SENDING, INELIGIBLE, "claimed_mark_ineligible")
def test_mark_ineligible_at_send_time(org: Organization) -> None:
    row, other = _claimed(org)
    transitions.claimed_mark_ineligible(
        [("opted_out", _db(NOW), r.pk, _db(NOW)) for r in (row, other)]
    )
    assert _state(row) == ("ineligible", "opted_out")
    assert _state(other) == ("sending", "")  # not our claim


@edge(SENDING, NOT_SENT, "claimed_hold")
def test_hold_for_quiet_hours_gives_the_attempt_back(org: Organization) -> None:
    row, other = _claimed(org)
    transitions.claimed_hold([(_db(LATER), _db(NOW), r.pk, _db(NOW)) for r in (row, other)])
    assert _state(row) == ("not_sent_yet", "")
    assert (row.attempts, row.next_attempt_at, row.claimed_at) == (0, LATER, None)
    assert _state(other) == ("sending", "")


@edge(SENDING, SENDING, "claimed_accept")
@edge(SENDING, SENT, "claimed_accept")
def test_accept_queued_and_sent(org: Organization) -> None:
    queued, sent = _row(org, "sending"), _row(org, "sending")
    other = _row(org, "sending", claimed_at=LATER)
    transitions.claimed_accept(
        queued=[("SMq", _db(NOW), queued.pk, _db(NOW)), ("SMx", _db(NOW), other.pk, _db(NOW))],
        sent=[("SMs", _db(LATER), _db(NOW), sent.pk, _db(NOW))],
    )
    assert _state(queued) == ("sending", "") and queued.carrier_message_id == "SMq"
    assert _state(sent) == ("sent", "") and (sent.carrier_message_id, sent.sent_at) == (
        "SMs",
        LATER,
    )
    assert _state(other) == ("sending", "") and other.carrier_message_id is None


@edge(SENDING, FAILED, "claimed_refuse")
@edge(SENDING, INELIGIBLE, "claimed_refuse")
def test_refuse(org: Organization) -> None:
    failed, stopped = _row(org, "sending"), _row(org, "sending")
    other = _row(org, "sending", claimed_at=LATER)
    transitions.claimed_refuse(
        [
            ("failed", "no_sms_capability", "30006", _db(NOW), failed.pk, _db(NOW)),
            ("ineligible", "opted_out", "21610", _db(NOW), stopped.pk, _db(NOW)),
            ("failed", "carrier_error", "30007", _db(NOW), other.pk, _db(NOW)),
        ]
    )
    assert _state(failed) == ("failed", "no_sms_capability") and failed.carrier_code == "30006"
    assert _state(stopped) == ("ineligible", "opted_out") and stopped.carrier_code == "21610"
    assert _state(other) == ("sending", "")


@edge(SENDING, NOT_SENT, "claimed_retry_later")
def test_retry_later(org: Organization) -> None:
    row, other = _claimed(org)
    transitions.claimed_retry_later(
        [(_db(LATER), "30001", _db(NOW), r.pk, _db(NOW)) for r in (row, other)]
    )
    assert _state(row) == ("not_sent_yet", "")
    assert (row.next_attempt_at, row.carrier_code, row.claimed_at, row.attempts) == (
        LATER,
        "30001",
        None,
        1,
    )
    assert _state(other) == ("sending", "")


# -- receipts ----------------------------------------------------------------------------------


def _receipts(kind: tuple[str, ...], rows: list[tuple[Any, ...]]) -> int:
    with connection.cursor() as cursor:
        return len(transitions.receipts_apply(cursor, kind, rows, now=_db(NOW)))


@edge(SENDING, SENT, "receipts_apply")
def test_sent_receipt(org: Organization) -> None:
    row = _row(org, "sending", carrier_message_id="SM1")
    failed = _row(org, "failed", reason="carrier_error", carrier_message_id="SM2")
    moved = _receipts(("sent",), [(_db(LATER), "SM1"), (_db(LATER), "SM2")])
    assert moved == 1
    assert _state(row) == ("sent", "") and row.sent_at == LATER
    assert _state(failed) == ("failed", "carrier_error")


@edge(SENT, SENT, "receipts_apply")
def test_delivered_receipt_stamps_a_sent_row_once(org: Organization) -> None:
    row = _row(org, "sent", carrier_message_id="SM1")
    assert _receipts(("delivered",), [(_db(NOW), _db(LATER), "SM1")]) == 1
    assert _state(row) == ("sent", "") and (row.sent_at, row.delivered_at) == (NOW, LATER)
    # A second copy changes nothing.
    again = LATER + dt.timedelta(minutes=1)
    assert _receipts(("delivered",), [(_db(NOW), _db(again), "SM1")]) == 0
    assert _state(row) == ("sent", "") and row.delivered_at == LATER


def test_a_batch_of_receipts_goes_in_statements_of_many_messages(
    org: Organization, monkeypatch: Any
) -> None:
    monkeypatch.setattr(transitions, "RECEIPTS_PER_STATEMENT", 2)
    rows = [_row(org, "sending", carrier_message_id=f"SM{i}") for i in range(5)]
    done = _row(org, "sent", carrier_message_id="SM9", delivered_at=NOW)
    values = [(_db(NOW), _db(LATER), f"SM{i}") for i in (0, 1, 2, 3, 4, 9)] + [
        (_db(NOW), _db(LATER), "SM-nobody")
    ]
    with connection.cursor() as cursor:
        moved = transitions.receipts_apply(cursor, ("sent", "delivered"), values, now=_db(LATER))
    assert sorted(moved) == sorted(r.broadcast_id for r in rows)
    for row in rows:
        assert _state(row) == ("sent", "") and (row.sent_at, row.delivered_at) == (NOW, LATER)
    assert _state(done) == ("sent", "") and done.delivered_at == NOW


@edge(SENDING, FAILED, "receipt_refuse")
@edge(SENT, FAILED, "receipt_refuse")
@edge(SENDING, INELIGIBLE, "receipt_refuse")
@edge(SENT, INELIGIBLE, "receipt_refuse")
@pytest.mark.parametrize("source", ["sending", "sent"])
@pytest.mark.parametrize(
    ("result", "reason"), [("failed", "contact_account"), ("ineligible", "opted_out")]
)
def test_failure_receipt_with_no_retry_left(
    org: Organization, source: str, result: str, reason: str
) -> None:
    row = _row(org, source, carrier_message_id="SM1")
    args = dict(carrier_id="SM1", result=result, reason=reason, carrier_code="30003", now=NOW)
    # It names the result it expects: a row that moved meanwhile is left alone.
    other = "sent" if source == "sending" else "sending"
    assert not transitions.receipt_refuse(row_id=row.pk, expected=other, **args)
    assert _state(row) == (source, "")
    assert transitions.receipt_refuse(row_id=row.pk, expected=source, **args)
    assert _state(row) == (result, reason) and row.carrier_code == "30003"


def test_a_delivered_row_takes_no_failure_receipt(org: Organization) -> None:
    row = _row(org, "sent", carrier_message_id="SM1", delivered_at=LATER)
    assert not transitions.receipt_refuse(
        row_id=row.pk,
        expected="sent",
        carrier_id="SM1",
        result="failed",
        reason="contact_account",
        carrier_code="30003",
        now=NOW,
    )
    assert _state(row) == ("sent", "")


@edge(SENDING, NOT_SENT, "receipt_retry_later")
@edge(SENT, NOT_SENT, "receipt_retry_later")
@pytest.mark.parametrize("source", ["sending", "sent"])
def test_retryable_failure_receipt_moves_the_row_back(org: Organization, source: str) -> None:
    row = _row(org, source, carrier_message_id="SM1")
    assert transitions.receipt_retry_later(
        row_id=row.pk,
        expected=source,
        carrier_id="SM1",
        next_attempt_at=LATER,
        carrier_code="30001",
        now=NOW,
    )
    assert _state(row) == ("not_sent_yet", "")
    assert (row.carrier_message_id, row.sent_at, row.claimed_at, row.next_attempt_at) == (
        None,
        None,
        None,
        LATER,
    )
    # A late copy of the same receipt matches nothing now.
    assert not transitions.receipt_retry_later(
        row_id=row.pk,
        expected=source,
        carrier_id="SM1",
        next_attempt_at=LATER,
        carrier_code="30001",
        now=NOW,
    )


# -- reconciling a dead worker's claim ---------------------------------------------------------


@edge(SENDING, SENDING, "reconcile_take_over")
def test_reconcile_takes_the_claim_over_once(org: Organization) -> None:
    row = _row(org, "sending")
    assert transitions.reconcile_take_over(row_id=row.pk, claimed_at=NOW, now=LATER)
    assert not transitions.reconcile_take_over(row_id=row.pk, claimed_at=NOW, now=LATER)
    assert _state(row) == ("sending", "") and row.claimed_at == LATER
    assert transitions.reconcile_record_carrier_id(row_id=row.pk, carrier_id="SM9", now=LATER)
    assert _state(row) == ("sending", "") and row.carrier_message_id == "SM9"


def _taken_over(org: Organization, **fields: Any) -> Message:
    row = _row(org, "sending", **fields)
    assert transitions.reconcile_take_over(row_id=row.pk, claimed_at=NOW, now=LATER)
    return row


@edge(SENDING, NOT_SENT, "reconcile_not_received")
def test_reconcile_not_received(org: Organization) -> None:
    row = _taken_over(org)
    # Only the reconciler's own claim is settled.
    assert not transitions.reconcile_not_received(row_id=row.pk, attempts=1, now=NOW)
    assert transitions.reconcile_not_received(row_id=row.pk, attempts=1, now=LATER)
    assert _state(row) == ("not_sent_yet", "") and (row.attempts, row.claimed_at) == (0, None)


@edge(SENDING, SENT, "reconcile_assume_sent")
def test_reconcile_assume_sent(org: Organization) -> None:
    row = _taken_over(org, carrier_message_id="SM1")
    assert not transitions.reconcile_assume_sent(row_id=row.pk, now=NOW)
    assert transitions.reconcile_assume_sent(row_id=row.pk, now=LATER)
    assert _state(row) == ("sent", "") and row.sent_at == LATER


@edge(SENDING, FAILED, "reconcile_give_up")
def test_reconcile_give_up(org: Organization) -> None:
    row = _taken_over(org)
    assert not transitions.reconcile_give_up(row_id=row.pk, reason="carrier_error", now=NOW)
    assert transitions.reconcile_give_up(row_id=row.pk, reason="carrier_error", now=LATER)
    assert _state(row) == ("failed", "carrier_error")


# -- the diagram -------------------------------------------------------------------------------


def _diagram() -> set[Edge]:
    """The edges the Message docstring lists (`from  to  by  when` lines)."""
    names = {"Ineligible": INELIGIBLE, "Failed": FAILED}
    doc = Message.__doc__ or ""
    table = doc.split("by (transitions.py)", 1)[1].split("\n\n", 1)[0]
    edges = set()
    for line in table.strip().splitlines()[1:]:  # after the header's last word
        source, target, by, _when = re.split(r"\s{2,}", line.strip(), maxsplit=3)
        edges.add(Edge(names.get(source, source), names.get(target, target), by))
    return edges


def test_the_diagram_lists_exactly_the_edges_the_code_allows() -> None:
    assert _diagram() == set(EDGES)
    assert len(EDGES) == len(set(EDGES))
    for e in EDGES:
        assert callable(getattr(transitions, e.transition)), e


def test_every_edge_has_its_test() -> None:
    assert set(EDGES) == TESTED
