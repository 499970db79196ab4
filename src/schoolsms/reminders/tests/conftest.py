"""A real SMTP server (aiosmtpd on 127.0.0.1, a free port) that tests can make misbehave."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """What the server received, and how it should misbehave."""

    messages: list[EmailMessage] = field(default_factory=list)
    reject: set[str] = field(default_factory=set)  # RCPT TO these gets 550
    defer: set[str] = field(default_factory=set)  # RCPT TO these gets 450
    drop_after: int | None = None  # drop the TCP connection at the DATA after this many

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    @property
    def recipients(self) -> list[str]:
        return sorted(m["To"] for m in self.messages)


class Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.inbox.reject:
            return "550 5.1.1 No such user here"
        if address in self.inbox.defer:
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.inbox.drop_after is not None and len(self.inbox.messages) >= self.inbox.drop_after:
            server.transport.close()  # a crash or a network cut: no reply at all
            return "421 gone"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.inbox.messages.append(message)
        return "250 Message accepted"


class FreePortController(Controller):
    """Binds port 0 and learns the real port before aiosmtpd's readiness probe connects."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = FreePortController(Handler(inbox), hostname="127.0.0.1", port=0)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Springfield District <alerts@springfield.example.org>"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # Users are created in almost every test here; PBKDF2's deliberate slowness only costs time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
