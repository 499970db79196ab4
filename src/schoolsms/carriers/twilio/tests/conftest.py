"""Fixtures for the Twilio gateway's tests: a sender configured for Twilio and the fake
Twilio API on 127.0.0.1 it is pointed at."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.accounts.models import Organization
from schoolsms.carriers.services import sender_gateway_configure
from schoolsms.carriers.twilio import config, transport
from schoolsms.carriers.twilio.tests.fake_twilio import FakeTwilio

ACCOUNT = "AC" + "1f" * 16
TOKEN = "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
OTHER_ACCOUNT = "AC" + "2e" * 16
OTHER_TOKEN = "0a0b0c0d0e0f10111213141516171819"
FROM = "+12175550100"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    config.accounts_forget()
    transport._connections.clear()
    yield
    config.accounts_forget()
    transport._connections.clear()


def twilio_org(
    slug: str = "springfield",
    code: str = "67587",
    *,
    account: str = ACCOUNT,
    token: str = TOKEN,
    mps: int = 0,
    **options: str,
) -> Organization:
    org = testing.create_org(slug, sender_code=code)
    values = {"account_sid": account, "auth_token": token, **options}
    if "messaging_service_sid" not in values:
        values.setdefault("from_number", FROM)
    sender_gateway_configure(sender=org.sender, gateway="twilio", values=values, mps=mps)
    config.accounts_forget()
    return org


@pytest.fixture
def fake(settings: Any, monkeypatch: Any) -> Iterator[FakeTwilio]:
    """The fake API, with the app pointed at it (settings, and the environment for worker
    processes a test starts). It posts no callbacks unless a test turns them on."""
    accounts = {ACCOUNT: TOKEN, OTHER_ACCOUNT: OTHER_TOKEN}
    with FakeTwilio(accounts=accounts, callbacks=False) as server:
        settings.SCHOOLSMS_TWILIO_API_URL = server.url
        monkeypatch.setenv("SCHOOLSMS_TWILIO_API_URL", server.url)
        yield server


@pytest.fixture
def public(live_server: Any, settings: Any, monkeypatch: Any) -> str:
    """The app served over real HTTP, and known by that address (webhook signatures)."""
    settings.SCHOOLSMS_PUBLIC_URL = live_server.url
    monkeypatch.setenv("SCHOOLSMS_PUBLIC_URL", live_server.url)
    return str(live_server.url)


def run_worker(*, horizon: float = 5.0) -> None:
    """The real worker loop until idle, pausing between polls as the real one does: a worker
    spinning on SQLite's write lock would starve the webhook requests the live server is
    serving meanwhile."""
    testing.run_worker(
        horizon=horizon, interval=0.02, sweep_every=0.5, worker_id="twilio-test-worker"
    )
