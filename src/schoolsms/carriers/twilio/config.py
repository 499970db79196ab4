"""What a Twilio sender is configured with (`schoolsms sender configure --gateway twilio`), and
which sender a webhook request belongs to."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from schoolsms.accounts.models import Sender
from schoolsms.carriers.options import GatewayConfig, GatewayOption
from schoolsms.carriers.selectors import gateway_options
from schoolsms.phones import InvalidPhoneNumber, to_e164
from schoolsms.sealing import SecretUnreadable

logger = logging.getLogger(__name__)

NAME = "twilio"
STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


def _account_sid(value: object) -> str | None:
    if _ACCOUNT_SID.match(str(value)):
        return None
    return "an Account SID is AC followed by 32 hexadecimal digits (see the Twilio console)"


def _service_sid(value: object) -> str | None:
    if _SERVICE_SID.match(str(value)):
        return None
    return "a Messaging Service SID is MG followed by 32 hexadecimal digits"


def _from_number(value: object) -> str | None:
    text = str(value)
    if text.isdigit() and 5 <= len(text) <= 6:
        return None  # a short code
    try:
        e164 = to_e164(text)
    except InvalidPhoneNumber as exc:
        return str(exc)
    if e164 != text:
        return f"write the number in E.164, as {e164}"
    return None


def _token(value: object) -> str | None:
    text = str(value)
    if len(text) < 8 or any(c.isspace() for c in text):
        return "an auth token is a single word of at least 8 characters (see the Twilio console)"
    return None


CONFIG = GatewayConfig(
    name=NAME,
    label="Twilio (or a Twilio-compatible API)",
    options=(
        GatewayOption(
            "account_sid", "Account SID", help="AC… from the Twilio console", required=True,
            check=_account_sid,
        ),
        GatewayOption(
            "auth_token", "Auth token", help="the account's auth token (stored encrypted)",
            required=True, secret=True, check=_token,
        ),
        GatewayOption(
            "messaging_service_sid", "Messaging Service SID",
            help="MG… (send through a Messaging Service)", one_of="from", check=_service_sid,
        ),
        GatewayOption(
            "from_number", "From number", help="E.164 number or short code to send from",
            one_of="from", check=_from_number,
        ),
    ),
    webhooks=(
        ("A message comes in (Webhook, HTTP POST)", INBOUND_PATH),
        ("Status callback URL", STATUS_PATH),
    ),
)  # fmt: skip


def api_url() -> str:
    """Where the REST API is: Twilio's own, or a compatible provider's (or a test server)."""
    return str(settings.SCHOOLSMS_TWILIO_API_URL).rstrip("/")


def status_callback_url() -> str:
    return settings.SCHOOLSMS_PUBLIC_URL + STATUS_PATH


@dataclass(frozen=True)
class TwilioAccount:
    """One Twilio sender's settings, with its token opened (never shown, never logged)."""

    sender_id: int
    code: str
    account_sid: str
    auth_token: str
    messaging_service_sid: str
    from_number: str

    def __repr__(self) -> str:  # keeps the token out of tracebacks and logs
        return f"TwilioAccount(sender={self.code}, account={self.account_sid})"

    def serves(self, number: str) -> bool:
        """Whether texts to `number` are texts to this sender."""
        return bool(number) and number in (self.from_number, self.code)


def account_for(sender: Sender) -> TwilioAccount:
    options: Mapping[str, Any] = gateway_options(sender)
    return TwilioAccount(
        sender_id=sender.pk,
        code=sender.code,
        account_sid=str(options.get("account_sid") or ""),
        auth_token=str(options.get("auth_token") or ""),
        messaging_service_sid=str(options.get("messaging_service_sid") or ""),
        from_number=str(options.get("from_number") or ""),
    )


# Webhooks arrive by the thousand per broadcast: the Twilio senders (and their opened tokens)
# are read once every few seconds per process, not once per request.
CACHE_SECONDS = 5.0
_cache: tuple[float, list[TwilioAccount]] | None = None


def twilio_accounts() -> list[TwilioAccount]:
    global _cache
    if _cache is not None and _cache[0] > time.monotonic():
        return _cache[1]
    accounts = []
    for sender in Sender.objects.filter(gateway=NAME).order_by("pk"):
        try:
            accounts.append(account_for(sender))
        except SecretUnreadable:
            # Its webhooks are refused until it is configured again; the others still work.
            logger.error("sender %s: its Twilio auth token cannot be opened", sender.code)
    _cache = (time.monotonic() + CACHE_SECONDS, accounts)
    return accounts


def accounts_forget() -> None:
    """Drop the cache (tests, and right after a sender is configured in this process)."""
    global _cache
    _cache = None


def accounts_for_request(form: Mapping[str, str]) -> list[TwilioAccount]:
    """The senders a webhook may belong to: those of its AccountSid, narrowed by the number
    or Messaging Service it names when the account has several senders."""
    candidates = [a for a in twilio_accounts() if a.account_sid == form.get("AccountSid")]
    if len(candidates) <= 1:
        return candidates
    service = form.get("MessagingServiceSid") or ""
    numbers = {form.get("To") or "", form.get("From") or ""}
    narrowed = [
        a
        for a in candidates
        if (service and a.messaging_service_sid == service) or any(map(a.serves, numbers))
    ]
    return narrowed or candidates
