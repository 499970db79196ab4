"""The one table of carrier codes (Twilio, SMPP, transport): what each means for a message row.

No carrier code appears anywhere else in the code: gateways pass the code that arrived, and
every decision about it (result, reason, retry, recording Opted Out) is read from here.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from django.conf import settings

from schoolsms.messaging.models import DeliveryResult, Reason

logger = logging.getLogger(__name__)

# Code families: which carrier vocabulary a code belongs to. A gateway says which one it speaks.
TWILIO = "twilio"
SMPP = "smpp"  # submit_sm_resp command_status, written as hex: "0x58"
SMPP_STAT = "smpp-stat"  # the `stat:` word of a delivery receipt
TRANSPORT = "transport"  # HTTP 5xx, timeouts, refused connections


class Retry(enum.Enum):
    """Whether a message refused with a code is tried again."""

    NEVER = "never"
    ONCE = "once"  # a second attempt, then it fails
    WITH_BACKOFF = "with backoff"  # up to SCHOOLSMS_RETRY_LIMIT attempts, the wait doubling


class Arrival(enum.Enum):
    """How Twilio reports a code (what the simulator imitates)."""

    AT_SEND = "at send"  # synchronously, in the answer to the send request (HTTP 400)
    FAILED = "failed"  # a `failed` status callback: it never left Twilio
    UNDELIVERED = "undelivered"  # `sent`, then an `undelivered` callback


@dataclass(frozen=True)
class CodeOutcome:
    result: str
    reason: str
    retry: Retry = Retry.NEVER
    records_opted_out: bool = False  # the number told the carrier STOP: record Opted Out
    alert: bool = False  # our own account is in trouble: an admin must look
    arrives: Arrival = Arrival.UNDELIVERED

    @property
    def retryable(self) -> bool:
        return self.retry is not Retry.NEVER

    def allowed_attempts(self, limit: int) -> int:
        """Attempts in total before a row refused with this code stays refused."""
        if self.retry is Retry.NEVER:
            return 1
        return min(limit, 2) if self.retry is Retry.ONCE else limit


_FAILED = DeliveryResult.FAILED_TO_SEND
_CARRIER = CodeOutcome(_FAILED, Reason.CARRIER_ERROR)
_ACCOUNT = CodeOutcome(_FAILED, Reason.CONTACT_ACCOUNT)
_NO_SMS = CodeOutcome(_FAILED, Reason.NO_SMS_CAPABILITY)
_RETRY = CodeOutcome(_FAILED, Reason.CARRIER_ERROR, retry=Retry.WITH_BACKOFF)
_AT_SEND = Arrival.AT_SEND
_NOT_SENT = Arrival.FAILED

CODES: dict[tuple[str, str], CodeOutcome] = {
    # Twilio, reference §2.
    (TWILIO, "21610"): CodeOutcome(
        DeliveryResult.INELIGIBLE_TO_SEND,
        Reason.OPTED_OUT,
        records_opted_out=True,
        arrives=_AT_SEND,
    ),
    (TWILIO, "30001"): CodeOutcome(
        _FAILED, Reason.CARRIER_ERROR, retry=Retry.WITH_BACKOFF, arrives=_NOT_SENT
    ),
    (TWILIO, "21611"): CodeOutcome(
        _FAILED, Reason.CARRIER_ERROR, retry=Retry.WITH_BACKOFF, arrives=_AT_SEND
    ),
    (TWILIO, "30002"): CodeOutcome(_FAILED, Reason.CARRIER_ERROR, alert=True, arrives=_NOT_SENT),
    (TWILIO, "30003"): _ACCOUNT,
    (TWILIO, "30004"): _NO_SMS,
    (TWILIO, "30005"): _ACCOUNT,
    (TWILIO, "30006"): _NO_SMS,
    (TWILIO, "30007"): CodeOutcome(_FAILED, Reason.CARRIER_ERROR, arrives=_NOT_SENT),
    (TWILIO, "30008"): CodeOutcome(
        _FAILED, Reason.CARRIER_ERROR, retry=Retry.ONCE, arrives=_NOT_SENT
    ),
    (TWILIO, "30010"): CodeOutcome(_FAILED, Reason.CARRIER_ERROR, arrives=_NOT_SENT),
    (TWILIO, "30036"): CodeOutcome(_FAILED, Reason.CARRIER_ERROR, arrives=_NOT_SENT),
    (TWILIO, "21211"): CodeOutcome(_FAILED, Reason.CONTACT_ACCOUNT, arrives=_AT_SEND),
    (TWILIO, "21408"): CodeOutcome(_FAILED, Reason.CARRIER_ERROR, arrives=_AT_SEND),
    (TWILIO, "21612"): CodeOutcome(_FAILED, Reason.NO_SMS_CAPABILITY, arrives=_AT_SEND),
    (TWILIO, "21614"): CodeOutcome(_FAILED, Reason.NO_SMS_CAPABILITY, arrives=_AT_SEND),
    # SMPP 3.4 command_status, reference §4.
    (SMPP, "0x58"): _RETRY,  # ESME_RTHROTTLED
    (SMPP, "0x14"): _RETRY,  # ESME_RMSGQFUL
    (SMPP, "0x08"): _RETRY,  # ESME_RSYSERR
    (SMPP, "0x0B"): _ACCOUNT,  # ESME_RINVDSTADR
    (SMPP, "0x0A"): _CARRIER,
    (SMPP, "0x01"): _CARRIER,
    (SMPP, "0x43"): _CARRIER,
    (SMPP, "0x62"): _CARRIER,
    **{(SMPP, f"0x{n:02X}"): _CARRIER for n in range(0x48, 0x52)},
    # Bind or auth trouble: the gateway rebinds; the message is tried again.
    (SMPP, "0x04"): _RETRY,
    (SMPP, "0x0D"): _RETRY,
    (SMPP, "0x0E"): _RETRY,
    # SMPP delivery receipt `stat:` words.
    (SMPP_STAT, "UNDELIV"): _ACCOUNT,
    (SMPP_STAT, "EXPIRED"): _ACCOUNT,
    (SMPP_STAT, "REJECTD"): _CARRIER,
    (SMPP_STAT, "DELETED"): _CARRIER,
    (SMPP_STAT, "UNKNOWN"): _CARRIER,
    # Provider trouble on the way there.
    (TRANSPORT, "http_5xx"): _RETRY,
    (TRANSPORT, "http_429"): _RETRY,  # too many requests: slow down and try again
    (TRANSPORT, "timeout"): _RETRY,
    (TRANSPORT, "connection"): _RETRY,
}

UNKNOWN = _CARRIER


def normalize(family: str, code: str | int) -> str:
    """Codes arrive as ints or strings; SMPP ones in any hex spelling."""
    text = str(code).strip()
    if family == SMPP:
        try:
            value = int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return text
        return f"0x{value:02X}"
    if family == SMPP_STAT:
        return text.upper()
    return text


def code_outcome(family: str, code: str | int) -> CodeOutcome:
    """What a carrier code means for the row; unknown codes are carrier errors, not retried."""
    return CODES.get((family, normalize(family, code)), UNKNOWN)


def stored_code(family: str, code: str | int) -> str:
    """How a code is kept on the message row: Twilio codes bare, others with their family."""
    value = normalize(family, code)
    return value if family == TWILIO else f"{family}:{value}"


def twilio_arrival(code: str) -> Arrival:
    """How Twilio reports a failure with this code (codes it does not know: `undelivered`)."""
    return CODES.get((TWILIO, normalize(TWILIO, code)), UNKNOWN).arrives


def retry_delay(attempt: int) -> dt.timedelta:
    """Backoff after the attempt-th try: base, 2x base, 4x base, ..."""
    return dt.timedelta(seconds=settings.SCHOOLSMS_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0))


@dataclass(frozen=True)
class FailureDecision:
    result: str
    reason: str
    carrier_code: str  # the code that arrived, as stored on the row
    next_attempt_at: dt.datetime | None  # set: try again then (result is Not Sent Yet)
    opted_out: bool = False  # record Opted Out for the number (source: carrier)


def failure_decide(*, family: str, code: str, attempts: int, now: dt.datetime) -> FailureDecision:
    """What a carrier code does to a row that has been tried `attempts` times."""
    stored = stored_code(family, code) if code else ""
    outcome = code_outcome(family, code) if code else UNKNOWN
    if outcome.records_opted_out:
        return FailureDecision(
            str(outcome.result), str(outcome.reason), stored, None, opted_out=True
        )
    if outcome.alert:
        logger.error("carrier code %s: our carrier account needs an administrator", stored)
    if attempts < outcome.allowed_attempts(settings.SCHOOLSMS_RETRY_LIMIT):
        return FailureDecision(
            DeliveryResult.NOT_SENT_YET.value, "", stored, now + retry_delay(attempts)
        )
    return FailureDecision(str(outcome.result), str(outcome.reason), stored, None)
