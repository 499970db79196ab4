"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from schoolsms import testing

CHROMIUM = "/usr/bin/chromium"
# Under CI everything runs: a missing browser fails the run instead of skipping tests.
IN_CI = os.environ.get("CI", "").lower() == "true"

# A checkout that was never set up has no var/secret_key (settings create nothing): tests get a
# key of their own, in the environment too so the worker and CLI processes they start share it.
try:
    os.environ["SECRET_KEY"] = django_settings.SECRET_KEY
except ImproperlyConfigured:  # empty: no SECRET_KEY and no key file
    os.environ["SECRET_KEY"] = django_settings.SECRET_KEY = secrets.token_urlsafe(50)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database of this run's own, so two runs at once (two checkouts, or SQLite and
    PostgreSQL) never share one: a file in the temporary folder for SQLite, a name with the
    process id and a random part for PostgreSQL. Worker and CLI processes a test starts reach
    it through `testing.subprocess_env()`."""
    run = f"{os.getpid()}_{secrets.token_hex(3)}"
    for db in django_settings.DATABASES.values():
        test = db.setdefault("TEST", {})
        if db["ENGINE"] == "django.db.backends.sqlite3":
            test["NAME"] = str(Path(tempfile.gettempdir()) / f"schoolsms_test_{run}.sqlite3")
        else:
            test["NAME"] = f"test_{str(db['NAME'])[:40]}_{run}"


@pytest.fixture(autouse=True)
def _simulator_for_tests(settings: Any, monkeypatch: Any) -> None:
    """Tests get a carrier simulator that delivers everything at once, unless a test sets a
    scenario; the environment is set too, for worker processes a test starts."""
    settings.SCHOOLSMS_SIMULATOR_SCENARIO = ""
    settings.SCHOOLSMS_SIMULATOR_CALLBACK_DELAY = 0
    monkeypatch.setenv("SCHOOLSMS_SIMULATOR_SCENARIO", "")
    monkeypatch.setenv("SCHOOLSMS_SIMULATOR_CALLBACK_DELAY", "0")


@pytest.fixture(autouse=True)
def _empty_task_queues(settings: Any) -> None:
    """On the RQ task backend every test starts with empty queues (the test run's own Redis
    database, SCHOOLSMS_REDIS_URL)."""
    if settings.SCHOOLSMS_TASK_BACKEND == "rq":
        import django_rq

        django_rq.get_connection("default").flushdb()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Test users get a fast hasher: the real one costs about half a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db: Any) -> Any:
    return testing.create_org()


@pytest.fixture
def other_org(db: Any) -> Any:
    return testing.create_org("shelbyville", sender_code="67588", name="Shelbyville District")


@pytest.fixture
def admin_user(org: Any) -> Any:
    return testing.create_user(org, "admin@springfield.example.org", "admin")


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright; skipped with a notice where it is missing."""
    if not shutil.which(CHROMIUM):
        if IN_CI:
            pytest.fail(f"CI runs the browser tests: {CHROMIUM} is missing")
        pytest.skip(f"browser tests need {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM is still used
    # synchronously by the test itself.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login(page: Any, live_server: Any) -> Any:
    """Log a user in through the real login form; returns a function (email, password)."""

    def do_login(email: str, password: str = testing.PASSWORD) -> Any:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        return page

    return do_login
