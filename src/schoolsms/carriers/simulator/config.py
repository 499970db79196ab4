"""The simulator needs nothing configured: it is the default gateway."""

from schoolsms.carriers.options import GatewayConfig

CONFIG = GatewayConfig(name="simulator", label="Carrier simulator (nothing leaves this server)")
