"""The simulator's configuration: the options a sender may set (none are needed: it is the
default gateway), the token its webhooks check signatures against, and its webhook."""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings
from django.urls import reverse

from schoolsms.accounts.models import Sender
from schoolsms.carriers.options import GatewayConfig

CONFIG = GatewayConfig(name="simulator", label="Carrier simulator (nothing leaves this server)")


def auth_token(sender: Sender) -> str:
    """The token signed callbacks to the simulator's webhooks are checked against (Twilio's
    auth token): the sender's `auth_token` option,
    or one derived from SECRET_KEY."""
    configured = (sender.gateway_options or {}).get("auth_token")
    if configured:
        return str(configured)
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"simulator:{sender.code}".encode(), hashlib.sha256).hexdigest()[:32]


@functools.lru_cache(maxsize=64)
def status_path(sender_code: str) -> str:
    """The path of the sender's status-callback webhook."""
    return reverse("simulator-status", args=[sender_code])
