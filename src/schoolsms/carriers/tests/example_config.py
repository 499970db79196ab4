"""A gateway configuration with every kind of option, for the tests of configuring one."""

from schoolsms.carriers.options import GatewayConfig, GatewayOption


def _starts_ac(value: object) -> str | None:
    return None if str(value).startswith("AC") else "must start with AC"


CONFIG = GatewayConfig(
    name="example",
    label="Example carrier",
    options=(
        GatewayOption("account_sid", "Account SID", required=True, check=_starts_ac),
        GatewayOption("auth_token", "Auth token", required=True, secret=True),
        GatewayOption("messaging_service_sid", "Messaging service SID", one_of="from"),
        GatewayOption("from_number", "From number", one_of="from"),
        GatewayOption("window", "Window", kind=int, default=10),
    ),
)
