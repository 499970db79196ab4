"""The carrier code table against reference §2 (Twilio) and §4 (SMPP), and retry decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schoolsms.messaging import codes
from schoolsms.messaging.codes import failure_decide

TWILIO_TABLE = {
    "21610": ("ineligible", "opted_out", False),
    "30001": ("failed", "carrier_error", True),
    "21611": ("failed", "carrier_error", True),
    "30002": ("failed", "carrier_error", False),
    "30003": ("failed", "contact_account", False),
    "30004": ("failed", "no_sms_capability", False),
    "30005": ("failed", "contact_account", False),
    "30006": ("failed", "no_sms_capability", False),
    "30007": ("failed", "carrier_error", False),
    "30008": ("failed", "carrier_error", True),
    "30010": ("failed", "carrier_error", False),
    "30036": ("failed", "carrier_error", False),
    "21211": ("failed", "contact_account", False),
    "21408": ("failed", "carrier_error", False),
    "21612": ("failed", "no_sms_capability", False),
    "21614": ("failed", "no_sms_capability", False),
}


@pytest.mark.parametrize("code, expected", TWILIO_TABLE.items())
def test_twilio_codes(code: str, expected: tuple[str, str, bool]) -> None:
    outcome = codes.code_outcome(codes.TWILIO, int(code))
    assert (outcome.result, outcome.reason, outcome.retryable) == expected


@pytest.mark.parametrize(
    "family, code, expected",
    [
        (codes.SMPP, "0x58", ("carrier_error", True)),
        (codes.SMPP, 0x14, ("carrier_error", True)),
        (codes.SMPP, "0x8", ("carrier_error", True)),
        (codes.SMPP, "0x0b", ("contact_account", False)),
        (codes.SMPP, "0x45", ("carrier_error", False)),  # not in the table: unknown
        (codes.SMPP, "0x4C", ("carrier_error", False)),
        (codes.SMPP_STAT, "undeliv", ("contact_account", False)),
        (codes.SMPP_STAT, "EXPIRED", ("contact_account", False)),
        (codes.SMPP_STAT, "REJECTD", ("carrier_error", False)),
        (codes.TRANSPORT, "timeout", ("carrier_error", True)),
        (codes.TWILIO, "99999", ("carrier_error", False)),
    ],
)
def test_smpp_transport_and_unknown_codes(family: str, code: Any, expected: Any) -> None:
    outcome = codes.code_outcome(family, code)
    assert (outcome.reason, outcome.retryable) == expected


NOW = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)


def test_retry_until_the_limit_then_fail(settings: Any) -> None:
    settings.SCHOOLSMS_RETRY_LIMIT = 4
    settings.SCHOOLSMS_RETRY_BASE_DELAY = 30
    waits = [
        failure_decide(family=codes.TWILIO, code="30001", attempts=n, now=NOW).next_attempt_at
        for n in (1, 2, 3)
    ]
    assert [(w - NOW).total_seconds() for w in waits if w] == [30, 60, 120]
    last = failure_decide(family=codes.TWILIO, code="30001", attempts=4, now=NOW)
    assert (last.result, last.reason, last.next_attempt_at) == ("failed", "carrier_error", None)
    assert failure_decide(family=codes.TWILIO, code="30008", attempts=2, now=NOW).result == "failed"
    permanent = failure_decide(family=codes.TWILIO, code="30006", attempts=1, now=NOW)
    assert (permanent.result, permanent.next_attempt_at) == ("failed", None)
    stop = failure_decide(family=codes.TWILIO, code="21610", attempts=1, now=NOW)
    assert (stop.result, stop.reason, stop.opted_out) == ("ineligible", "opted_out", True)
