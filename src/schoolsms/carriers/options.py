"""What a carrier gateway needs configured on a sender: its options, declared once per carrier
(`carriers/<name>/config.py`) and read by `schoolsms sender configure` and the Settings page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GatewayOption:
    """One setting of a gateway. `key` is how it is kept in Sender.gateway_options and the
    command-line flag is `--` + key with dashes (`account_sid` -> `--account-sid`)."""

    key: str
    label: str
    help: str = ""
    required: bool = False
    secret: bool = False  # sealed at rest, never shown back (last 4 characters at most)
    kind: type = str  # str or int
    default: Any = None
    # Options of one group: exactly one of them must be given (e.g. Twilio's
    # --messaging-service-sid | --from-number).
    one_of: str = ""
    check: Callable[[Any], str | None] | None = None  # an error message, or None

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


@dataclass(frozen=True)
class GatewayConfig:
    name: str
    label: str
    options: tuple[GatewayOption, ...] = ()
    # Extra checks across options (messages naming the flags); none by default.
    validate: Callable[[Mapping[str, Any]], list[str]] = field(default=lambda values: [])
    # Addresses to enter in the carrier's console: (what the console calls it, path under
    # SCHOOLSMS_PUBLIC_URL). Shown on Settings > Carrier.
    webhooks: tuple[tuple[str, str], ...] = ()

    def option(self, key: str) -> GatewayOption:
        return next(o for o in self.options if o.key == key)
