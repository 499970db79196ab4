"""Scenario files: which numbers the simulated carrier fails, and with which Twilio code."""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from schoolsms.messaging import codes
from schoolsms.phones import InvalidPhoneNumber, to_e164

HEADER = ["phone", "error_code"]


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, str]:
    codes: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        if header != HEADER:
            raise ImproperlyConfigured(
                f"simulator scenario {path}: the header must be {','.join(HEADER)}, "
                f"not {','.join(header) or '(empty)'}"
            )
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2 or not row[1].strip().isdigit():
                raise ImproperlyConfigured(
                    f"simulator scenario {path} line {line}: expected phone,error_code "
                    f"(a number), got {','.join(row)!r}"
                )
            try:
                phone = to_e164(row[0])
            except InvalidPhoneNumber as exc:
                raise ImproperlyConfigured(
                    f"simulator scenario {path} line {line}: {exc}"
                ) from None
            codes[phone] = row[1].strip()
    return codes


def scenario_codes(path: str) -> dict[str, str]:
    """phone (E.164) -> Twilio error code, from the CSV at `path`; empty path: none."""
    if not path:
        return {}
    if not os.path.exists(path):
        raise ImproperlyConfigured(f"SCHOOLSMS_SIMULATOR_SCENARIO: no file at {path}")
    return _load(path, Path(path).stat().st_mtime)


def callbacks_for(error_code: str) -> list[tuple[str, str]]:
    """The (MessageStatus, ErrorCode) callbacks Twilio would send for an accepted message:
    `failed` when it never left Twilio, `sent` then `undelivered` when a carrier or the
    handset refused it (the code table says which)."""
    if not error_code:
        return [("sent", ""), ("delivered", "")]
    if codes.twilio_arrival(error_code) is codes.Arrival.FAILED:
        return [("failed", error_code)]
    return [("sent", ""), ("undelivered", error_code)]
