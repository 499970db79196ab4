"""What a sender needs configured to send over an SMSC's SMPP 3.4 bind."""

from __future__ import annotations

from collections.abc import Callable

from schoolsms.carriers.options import GatewayConfig, GatewayOption


def _length(most: int) -> Callable[[object], str | None]:
    # SMPP 3.4 C-Octet strings: the field size counts the closing NUL.
    def check(value: object) -> str | None:
        return None if len(str(value)) <= most else f"at most {most} characters in SMPP 3.4"

    return check


def _between(low: int, high: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if low <= int(str(value)) <= high else f"must be {low} to {high}"

    return check


CONFIG = GatewayConfig(
    name="smpp",
    label="SMPP 3.4 (an aggregator's SMSC)",
    options=(
        GatewayOption("smpp_host", "SMSC host", help="host name or address", required=True),
        GatewayOption("smpp_port", "SMSC port", kind=int, required=True, check=_between(1, 65535)),
        GatewayOption("smpp_system_id", "System ID", required=True, check=_length(15)),
        GatewayOption("smpp_password", "Password", required=True, secret=True, check=_length(8)),
        GatewayOption(
            "smpp_system_type", "System type", help="if the SMSC asks for one", check=_length(12)
        ),
        GatewayOption(
            "smpp_source_ton",
            "Source TON",
            help="type of number of the sender address (default: 3 for a short code, "
            "1 for a +number)",
            kind=int,
            check=_between(0, 6),
        ),
        GatewayOption(
            "smpp_source_npi",
            "Source NPI",
            help="numbering plan of the sender address (default: 0 for a short code, "
            "1 for a +number)",
            kind=int,
            check=_between(0, 18),
        ),
        GatewayOption(
            "smpp_window",
            "Window",
            help="submits awaiting their answer at once on the bind",
            kind=int,
            default=10,
            check=_between(1, 1000),
        ),
    ),
)
