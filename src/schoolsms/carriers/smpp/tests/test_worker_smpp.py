"""`schoolsms worker` as a real process holding an SMPP bind to a small SMSC on 127.0.0.1:
binds refused, results and receipts, an inbound STOP, a dropped connection, throttling, long
and UCS-2 texts. Every row ends in its true result and nothing is submitted twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from schoolsms import testing
from schoolsms.carriers.services import sender_gateway_configure
from schoolsms.carriers.smpp.pdus import decode, strip_udh
from schoolsms.carriers.smpp.tests.smsc import Smsc, Submit
from schoolsms.consent.models import ConsentRecord
from schoolsms.messaging.models import Broadcast, BroadcastStatus, InboundText, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast
from schoolsms.messaging.text import split_segments

SCHOOLSMS = str(Path(sys.executable).with_name("schoolsms"))
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    server = Smsc().start()
    yield server
    server.stop()


def _org(smsc: Smsc, count: int, *, password: str = "secret", window: int = 10) -> Any:  # noqa: S107
    org = testing.create_org()
    sender_gateway_configure(
        sender=org.sender,
        gateway="smpp",
        values={
            "smpp_host": "127.0.0.1",
            "smpp_port": smsc.port,
            "smpp_system_id": "school",
            "smpp_password": password,
            "smpp_window": window,
        },
    )
    with transaction.atomic():
        for i in range(count):
            testing.create_contact(org, f"c{i}", [_phone(i)], consent="opted_in")
    return org


def _phone(i: int) -> str:
    return f"+1217555{i:04d}"


class Worker:
    def __init__(self) -> None:
        env = {
            **testing.subprocess_env(),
            "SCHOOLSMS_RETRY_BASE_DELAY": "0",
            "LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen([SCHOOLSMS, "worker", "--interval", "0.05"], env=env)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def worker() -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker())
        return started[-1]

    yield start
    for w in started:
        w.stop()


def _wait_for(predicate: Callable[[], bool], timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            rows = list(Message.objects.values_list("phone", "result", "attempts", "carrier_code"))
            raise AssertionError(f"timed out waiting; rows: {rows}")
        time.sleep(0.1)


def _settled(broadcast: Broadcast, *, receipts: int = 0) -> Callable[[], bool]:
    """Every row final and, when asked, that many rows with their receipt applied."""

    def check() -> bool:
        rows = Message.objects.filter(broadcast=broadcast)
        if not rows.exists() or rows.filter(result__in=["not_sent_yet", "sending"]).exists():
            return False
        return rows.filter(delivered_at__isnull=False).count() >= receipts

    return check


def _results(broadcast: Broadcast) -> dict[str, tuple[str, str, bool]]:
    return {
        m.phone or "": (m.result, m.reason, m.delivered_at is not None)
        for m in Message.objects.filter(broadcast=broadcast)
    }


def _taken(smsc: Smsc) -> list[Submit]:
    return [s for s in smsc.submits if s.message_id]


def _assert_each_number_taken_once(smsc: Smsc, count: int) -> None:
    per_number = Counter(s.destination for s in _taken(smsc))
    assert len(per_number) == count
    assert max(per_number.values()) == 1, "a number got the broadcast twice"


def test_a_refused_bind_fails_the_rows_as_carrier_error(
    smsc: Smsc, worker: Callable[[], Worker]
) -> None:
    org = _org(smsc, 2, password="wrong")
    broadcast = make_broadcast(org)
    worker()
    _wait_for(_settled(broadcast))
    assert set(_results(broadcast).values()) == {("failed", "carrier_error", False)}
    assert smsc.binds and set(smsc.binds) == {"0x0E"}  # ESME_RINVPASWD, and no bind succeeded
    assert smsc.submits == []
    assert set(Message.objects.values_list("carrier_code", flat=True)) == {"smpp:0x0E"}


@pytest.mark.parametrize(("receipts", "seconds"), [("text", False), ("text", True), ("tlv", False)])
def test_results_and_receipts(
    smsc: Smsc, worker: Callable[[], Worker], receipts: str, seconds: bool
) -> None:
    smsc.receipts, smsc.seconds_in_dates = receipts, seconds
    org = _org(smsc, 4)
    smsc.outcomes = {
        _phone(1)[1:]: "undeliverable",
        _phone(2)[1:]: "rejected",
        _phone(3)[1:]: "0x0B",  # ESME_RINVDSTADR: refused in the submit_sm_resp
    }
    broadcast = make_broadcast(org, text="Snow day: school is closed.")
    worker()
    _wait_for(_settled(broadcast, receipts=1))
    _wait_for(lambda: Message.objects.filter(result="failed").count() == 3)
    assert _results(broadcast) == {
        _phone(0): ("sent", "", True),
        _phone(1): ("failed", "contact_account", False),
        _phone(2): ("failed", "carrier_error", False),
        _phone(3): ("failed", "contact_account", False),
    }
    codes = dict(Message.objects.values_list("phone", "carrier_code"))
    assert codes[_phone(1)] == "smpp-stat:UNDELIV" and codes[_phone(3)] == "smpp:0x0B"
    kept = set(
        Message.objects.exclude(carrier_message_id=None).values_list(
            "carrier_message_id", flat=True
        )
    )
    assert kept == {f"{org.sender.pk}:{s.message_id}" for s in _taken(smsc)}
    for submit in smsc.submits:
        assert submit.registered_delivery == 1 and submit.dest_ton == 1
        assert submit.source == "67587" and submit.data_coding == 0
        assert submit.short_message == b"Snow day: school is closed."  # nothing appended
    _wait_for(lambda: len(smsc.acked) == 3)  # every receipt acknowledged once applied
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETE


def test_inbound_stop_opts_out_and_the_confirmation_is_submitted(
    smsc: Smsc, worker: Callable[[], Worker]
) -> None:
    org = _org(smsc, 1)
    worker()
    _wait_for(lambda: bool(smsc.bound()))
    smsc.send_mo(source=_phone(0)[1:], to="67587", text=b"Stop ")
    _wait_for(lambda: len(smsc.acked) == 1)  # acknowledged once handled
    record = ConsentRecord.objects.get(sender=org.sender, phone=_phone(0))
    assert record.status == "opted_out"
    [reply] = smsc.submits
    assert reply.registered_delivery == 0  # a reply has no row for a receipt to update
    assert reply.destination == _phone(0)[1:]
    [text] = InboundText.objects.filter(sender=org.sender, phone=_phone(0))
    assert (text.body, text.channel, text.kind) == ("Stop ", "smpp", "opt_out")
    assert text.reply and decode(reply.short_message, reply.data_coding) == text.reply
    assert not Message.objects.exists()  # a reply, not a broadcast row


@pytest.mark.slow
def test_a_dropped_connection_and_throttling_lose_nothing_and_send_nothing_twice(
    smsc: Smsc, worker: Callable[[], Worker]
) -> None:
    count = 40
    smsc.throttle_first, smsc.drop_after = 6, 20
    org = _org(smsc, count)
    broadcast = make_broadcast(org)
    worker()
    _wait_for(_settled(broadcast, receipts=count), timeout=60)
    assert set(_results(broadcast).values()) == {("sent", "", True)}
    assert smsc.binds.count("ok") >= 2  # it bound again after the drop
    _assert_each_number_taken_once(smsc, count)


def test_long_and_ucs2_texts_arrive_as_their_segments(
    smsc: Smsc, worker: Callable[[], Worker]
) -> None:
    org = _org(smsc, 1)
    # 152 plain characters then an escape pair: the pair must not straddle the split at 153.
    gsm = "a" * 152 + "{" + "b" * 100
    ucs2 = "Café fermé 🙂 " * 12  # 14 units each: 168, so 67 + 67 + 34
    first = make_broadcast(org, text=gsm)
    worker()
    _wait_for(_settled(first))
    second = make_broadcast(org, text=ucs2)
    _wait_for(_settled(second))
    by_text: dict[int, list[Submit]] = {}
    for submit in _taken(smsc):
        by_text.setdefault(submit.data_coding, []).append(submit)
    assert len(split_segments(ucs2)) == 3
    for coding, text, segments in ((0, gsm, 2), (8, ucs2, 3)):
        parts = by_text[coding]
        assert len(parts) == segments
        pieces = []
        for n, submit in enumerate(parts, start=1):
            assert submit.esm_class & 0x40
            data, concat = strip_udh(submit.short_message, submit.esm_class)
            assert concat is not None and concat[1:] == (segments, n)
            pieces.append(decode(data, coding))
        assert "".join(pieces) == text
    assert decode(strip_udh(by_text[0][0].short_message, 0x40)[0], 0).endswith("a")
    assert Counter(Message.objects.values_list("result", flat=True)) == {"sent": 2}
