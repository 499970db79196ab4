"""Reading a sender's gateway settings: in full for its gateway, masked for people."""

from __future__ import annotations

from typing import Any

from schoolsms import sealing
from schoolsms.accounts.models import Sender
from schoolsms.carriers.registry import gateway_configs


def gateway_options(sender: Sender) -> dict[str, Any]:
    """The sender's options with secrets opened: for its gateway only, never for display."""
    config = gateway_configs().get(sender.gateway)
    options = dict(sender.gateway_options or {})
    if config is None:
        return options
    for option in config.options:
        value = options.get(option.key)
        if option.secret and isinstance(value, str) and sealing.is_sealed(value):
            options[option.key] = sealing.unseal(value)
    return options


def gateway_settings_display(sender: Sender) -> list[tuple[str, str]]:
    """(label, value) pairs safe to show: secrets as their last 4 characters at most."""
    config = gateway_configs().get(sender.gateway)
    if config is None:
        return []
    stored = sender.gateway_options or {}
    shown = []
    for option in config.options:
        if option.key not in stored:
            continue
        value = stored[option.key]
        if option.secret:
            try:
                value = sealing.masked(sealing.unseal(str(value)))
            except sealing.SecretUnreadable:
                value = "(unreadable: configure it again)"
        shown.append((option.label, str(value)))
    return shown
