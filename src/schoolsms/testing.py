"""Builders for tests: organizations, users and contacts in one call each."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from django.contrib.auth.models import User

from schoolsms.accounts.models import Organization
from schoolsms.accounts.services import organization_create, user_create
from schoolsms.consent.services import consent_change
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.messaging.workers.configured import pipeline_worker

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test-only)


def create_org(
    slug: str = "springfield", sender_code: str = "67587", **kwargs: str
) -> Organization:
    kwargs.setdefault("name", slug.replace("-", " ").title() + " District")
    kwargs.setdefault("program_name", "Springfield Schools Alerts")
    kwargs.setdefault("help_contact", "help@springfield.example.org")
    # Off unless a test asks: with the product's default (21:00-08:00), a test that sends would
    # pass or fail by the hour it runs at.
    kwargs.setdefault("quiet_hours", "off")
    return organization_create(slug=slug, sender_code=sender_code, **kwargs)


def create_user(org: Organization, email: str, role: str = "admin") -> User:
    user, _ = user_create(organization=org, email=email, role=role, password=PASSWORD)
    return user


def create_contact(
    org: Organization,
    external_id: str,
    phones: Sequence[str | tuple[str, bool]] = (),
    *,
    first_name: str = "Pat",
    last_name: str = "Doe",
    consent: str | None = None,
    **fields: str,
) -> Contact:
    """Phones are E.164 strings (SMS enabled) or (e164, sms_enabled) pairs. With `consent`, each
    SMS-enabled number gets that status on the organization's sender."""
    contact = Contact.objects.create(
        organization=org,
        external_id=external_id,
        first_name=first_name,
        last_name=last_name,
        **fields,
    )
    for position, item in enumerate(phones, start=1):
        phone, enabled = (item, True) if isinstance(item, str) else item
        PhoneNumber.objects.create(
            contact=contact, position=position, phone=phone, sms_enabled=enabled
        )
        if enabled and consent:
            consent_change(
                sender=org.sender, phone=phone, new_status=consent, source="admin", organization=org
            )
    return contact


def subprocess_env() -> dict[str, str]:
    """The environment for a `schoolsms` process that uses the current (test) database."""
    import os

    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url}


def run_worker(
    *,
    horizon: float = 30.0,
    interval: float = 0.0,
    sweep_every: float = 1.0,
    worker_id: str = "test-worker",
    within: float | None = None,
) -> None:
    """The real worker loop of the configured task backend, in this process (no signal
    handlers), until idle; `interval` is the pause between polls when no task is ready. With
    `within`, fail when the worker is not idle after that many seconds."""
    worker = pipeline_worker(
        until_idle=True,
        horizon=horizon,
        sweep_every=sweep_every,
        interval=interval,
        worker_id=worker_id,
        manage_connections=False,
    )
    if within is None:
        worker.run()
        return
    done = threading.Event()

    def stop() -> None:
        if not done.is_set():
            worker.running = False

    timer = threading.Timer(within, stop)
    timer.start()
    try:
        worker.run()
    finally:
        done.set()
        timer.cancel()
    assert worker.running, f"the worker still had work after {within} s"
