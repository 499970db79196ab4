"""Scenario files: the shipped demo mix, and clear errors for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from schoolsms.carriers.simulator.scenario import callbacks_for, scenario_codes
from schoolsms.messaging import codes

DEMO = Path(__file__).resolve().parents[1] / "demo_scenario.csv"


def test_the_demo_scenario_uses_only_known_twilio_codes() -> None:
    loaded = scenario_codes(str(DEMO))
    assert len(loaded) >= 20
    assert all(phone.startswith("+1") and phone[5:9] == "5550" for phone in loaded)
    assert all((codes.TWILIO, code) in codes.CODES for code in loaded.values())
    # A realistic mix: refused at send time, undelivered later, and retried.
    assert any(c.startswith("21") for c in loaded.values())
    assert any(c.startswith("30") for c in loaded.values())


def test_callbacks_follow_twilio() -> None:
    assert callbacks_for("") == [("sent", ""), ("delivered", "")]
    assert callbacks_for("30003") == [("sent", ""), ("undelivered", "30003")]
    assert callbacks_for("30001") == [("failed", "30001")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("number,code\n+12175550101,30003\n", "the header must be phone,error_code"),
        ("phone,error_code\n+12175550101,abc\n", "line 2: expected phone,error_code"),
        ("phone,error_code\n+12175550101,30003\nnot-a-phone,30003\n", "line 3"),
    ],
)
def test_broken_files_are_refused_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "scenario.csv"
    path.write_text(content)
    with pytest.raises(ImproperlyConfigured, match=message):
        scenario_codes(str(path))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="no file at"):
        scenario_codes(str(tmp_path / "nope.csv"))
