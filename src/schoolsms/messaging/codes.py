"""The one table mapping carrier codes (Twilio, SMPP) to a result, a reason and a retry rule."""

from __future__ import annotations

from dataclasses import dataclass

from schoolsms.messaging.models import DeliveryResult, Reason

# Code families: which carrier vocabulary a code belongs to. A gateway says which one it speaks.
TWILIO = "twilio"
SMPP = "smpp"  # submit_sm_resp command_status, written as hex: "0x58"
SMPP_STAT = "smpp-stat"  # the `stat:` word of a delivery receipt
TRANSPORT = "transport"  # HTTP 5xx, timeouts, refused connections

# Not a carrier failure: the number texted STOP to the sender (Twilio 21610).
OPTED_OUT_CODES = {(TWILIO, "21610")}


@dataclass(frozen=True)
class CodeOutcome:
    result: str
    reason: str
    retryable: bool = False
    # Attempts allowed in total for this code; None means SCHOOLSMS_RETRY_LIMIT.
    max_attempts: int | None = None
    alert: bool = False  # our own account is in trouble: an admin must look


_FAILED = DeliveryResult.FAILED_TO_SEND
_CARRIER = CodeOutcome(_FAILED, Reason.CARRIER_ERROR)
_ACCOUNT = CodeOutcome(_FAILED, Reason.CONTACT_ACCOUNT)
_NO_SMS = CodeOutcome(_FAILED, Reason.NO_SMS_CAPABILITY)
_RETRY = CodeOutcome(_FAILED, Reason.CARRIER_ERROR, retryable=True)

CODES: dict[tuple[str, str], CodeOutcome] = {
    # Twilio, reference §2.
    (TWILIO, "21610"): CodeOutcome(DeliveryResult.INELIGIBLE_TO_SEND, Reason.OPTED_OUT),
    (TWILIO, "30001"): _RETRY,
    (TWILIO, "21611"): _RETRY,
    (TWILIO, "30002"): CodeOutcome(_FAILED, Reason.CARRIER_ERROR, alert=True),
    (TWILIO, "30003"): _ACCOUNT,
    (TWILIO, "30004"): _NO_SMS,
    (TWILIO, "30005"): _ACCOUNT,
    (TWILIO, "30006"): _NO_SMS,
    (TWILIO, "30007"): _CARRIER,
    (TWILIO, "30008"): CodeOutcome(_FAILED, Reason.CARRIER_ERROR, retryable=True, max_attempts=2),
    (TWILIO, "30010"): _CARRIER,
    (TWILIO, "30036"): _CARRIER,
    (TWILIO, "21211"): _ACCOUNT,
    (TWILIO, "21408"): _CARRIER,
    (TWILIO, "21612"): _NO_SMS,
    (TWILIO, "21614"): _NO_SMS,
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


def is_opt_out(family: str, code: str | int) -> bool:
    return (family, normalize(family, code)) in OPTED_OUT_CODES


def allowed_attempts(outcome: CodeOutcome, limit: int) -> int:
    if not outcome.retryable:
        return 1
    return min(limit, outcome.max_attempts) if outcome.max_attempts else limit


def stored_code(family: str, code: str | int) -> str:
    """How a code is kept on the message row: Twilio codes bare, others with their family."""
    value = normalize(family, code)
    return value if family == TWILIO else f"{family}:{value}"
