"""The carrier code table against the reference page's own tables (§2 Twilio, §4 SMPP), read
from the page itself; no code means anything outside the table; retry decisions."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from schoolsms.messaging import codes
from schoolsms.messaging.codes import Retry, failure_decide

REPO = Path(__file__).resolve().parents[4]
PACKAGE = REPO / "src" / "schoolsms"
REFERENCE_PAGE = Path("shared") / "reference" / "carriers-and-consent.md"


def _reference() -> str:
    """The reference page: <repo>/../shared/reference/ (in CI), or the same path next to a
    folder further up (a worktree kept in a subfolder)."""
    for folder in REPO.parents:
        if (folder / REFERENCE_PAGE).exists():
            return (folder / REFERENCE_PAGE).read_text(encoding="utf-8")
    raise AssertionError(f"{REFERENCE_PAGE} not found beside {REPO} or any folder above it")


def _retry(text: str) -> Retry:
    text = text.strip().lower()
    if text.startswith("once"):
        return Retry.ONCE
    if text.startswith("yes"):
        return Retry.WITH_BACKOFF
    assert text.startswith(("no", "never")), text
    return Retry.NEVER


_TRANSPORT_WORDS = {"HTTP 5xx": "http_5xx", "timeout": "timeout", "connection error": "connection"}


def reference_twilio_table() -> dict[tuple[str, str], tuple[str, str, Retry, bool, bool]]:
    """(family, code) -> (result, reason, retry, records Opted Out, alert), from the rows of
    §2's "Carrier code → result mapping" table."""
    section = _reference().split("### Carrier code → result mapping", 1)[1]
    [table_text] = [b for b in section.split("\n\n") if b.startswith("|")][:1]
    rows = table_text.splitlines()[2:]  # after the header and its rule
    table = {}
    for row in rows:
        code_cell, _meaning, outcome, retry = (c.strip() for c in row.strip("|").split("|"))
        result = "ineligible" if outcome.startswith("Ineligible to Send") else "failed"
        assert outcome.startswith(("Ineligible to Send", "Failed")), outcome
        [reason] = re.findall(r"`(\w+)`", outcome)
        entry = (result, reason, _retry(retry), "record Opted Out" in outcome, "alert" in outcome)
        for code in (c.strip() for c in code_cell.split(",")):
            family = codes.TWILIO if code.isdigit() else codes.TRANSPORT
            table[(family, code if code.isdigit() else _TRANSPORT_WORDS[code])] = entry
    return table


def _hex_codes(text: str) -> list[str]:
    """0x.. codes in a clause, ranges (written with an en dash) spelled out."""
    found = []
    for first, last in re.findall(r"0x([0-9A-Fa-f]{2})(?:\u20130x([0-9A-Fa-f]{2}))?", text):
        start = int(first, 16)
        found += [f"0x{n:02X}" for n in range(start, int(last or first, 16) + 1)]
    return found


def _bullet(prefix: str) -> str:
    """One bullet of the page, its wrapped lines joined."""
    lines = _reference().splitlines()
    [start] = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    text = lines[start].removeprefix(prefix)
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        text += " " + line.strip()
    return text


def reference_smpp_statuses() -> dict[str, tuple[str | None, Retry]]:
    """command_status -> (reason or None when the page names none, retry), from §4."""
    table = {}
    for clause in _bullet("- command_status:").split(";"):
        if "→" not in clause:
            continue  # 0x00 OK
        left, right = clause.split("→", 1)
        reasons = re.findall(r"`(\w+)`", right)
        reason = reasons[0] if reasons else None
        if "retry" in right or "resubmit" in right:
            retry = Retry.WITH_BACKOFF
            reason = reason or "carrier_error"
        else:
            retry = Retry.NEVER
        for code in _hex_codes(left):
            table[code] = (reason, retry)
    return table


def reference_smpp_stats() -> dict[str, str]:
    """Receipt `stat:` word -> reason, for the words §4 gives a reason."""
    table = {}
    for clause in _bullet("- stat:").split(";"):
        if "→" in clause:
            left, right = clause.split("→", 1)
            [reason] = re.findall(r"`(\w+)`", right)
            table.update({word: reason for word in re.findall(r"[A-Z]{5,}", left)})
    return table


def test_the_reference_tables_are_read() -> None:
    # The parsers found the tables (a renamed heading would make them find nothing).
    assert len(reference_twilio_table()) >= 19
    assert len(reference_smpp_statuses()) >= 15
    assert set(reference_smpp_stats()) >= {"UNDELIV", "REJECTD"}


def test_twilio_and_transport_codes_match_the_reference_table() -> None:
    expected = reference_twilio_table()
    ours = {
        key: (o.result, o.reason, o.retry, o.records_opted_out, o.alert)
        for key, o in codes.CODES.items()
        if key[0] in (codes.TWILIO, codes.TRANSPORT)
    }
    # Every Twilio code the page names, and no other; transport trouble the page names, and
    # any more kinds a gateway tells apart (HTTP 429) only as provider trouble, retried.
    assert {k: v for k, v in ours.items() if k[0] == codes.TWILIO} == {
        k: v for k, v in expected.items() if k[0] == codes.TWILIO
    }
    for key, entry in expected.items():
        assert ours[key] == entry, key
    provider_trouble = ("failed", "carrier_error", Retry.WITH_BACKOFF, False, False)
    assert all(v == provider_trouble for k, v in ours.items() if k[0] == codes.TRANSPORT)


def test_smpp_command_statuses_match_the_reference() -> None:
    for code, (reason, retry) in reference_smpp_statuses().items():
        outcome = codes.code_outcome(codes.SMPP, code)
        assert outcome.result == "failed", code
        assert outcome.retry is retry, code
        if reason is not None:
            assert outcome.reason == reason, code
    assert set(reference_smpp_statuses()) == {k for f, k in codes.CODES if f == codes.SMPP}


def test_smpp_receipt_stats_match_the_reference() -> None:
    expected = reference_smpp_stats()
    assert {k: o.reason for (f, k), o in codes.CODES.items() if f == codes.SMPP_STAT} == expected


def test_codes_twilio_answers_at_send_are_the_ones_the_reference_names() -> None:
    line = re.search(r"Codes ([\d, ]+) come back synchronously", _reference())
    assert line is not None
    at_send = {c.strip() for c in line.group(1).split(",") if c.strip()}
    ours = {
        code
        for (family, code), o in codes.CODES.items()
        if family == codes.TWILIO and o.arrives is codes.Arrival.AT_SEND
    }
    assert ours == at_send


def test_no_carrier_code_means_anything_outside_the_table() -> None:
    """No Twilio code literal in the source outside codes.py (tests aside): whatever a code
    does is read from the table."""
    twilio = {code for family, code in codes.CODES if family == codes.TWILIO}
    pattern = re.compile(r"(?<![\w.])(" + "|".join(sorted(twilio)) + r")(?![\w.])")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "messaging" / "codes.py" or "tests" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


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
        (codes.TWILIO, 30003, ("contact_account", False)),
    ],
)
def test_codes_in_any_spelling_and_unknown_codes(family: str, code: Any, expected: Any) -> None:
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


def test_the_code_recorded_is_the_code_that_arrived() -> None:
    decided = failure_decide(family=codes.TWILIO, code="30007", attempts=1, now=NOW)
    assert decided.carrier_code == "30007"
    unknown = failure_decide(family=codes.TWILIO, code="31999", attempts=1, now=NOW)
    assert (unknown.carrier_code, unknown.reason) == ("31999", "carrier_error")
    smpp = failure_decide(family=codes.SMPP, code="0x0b", attempts=1, now=NOW)
    assert smpp.carrier_code == "smpp:0x0B"
