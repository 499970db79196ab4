"""Every carrier gateway by name: the values `Sender.gateway` may take, and what each needs
configured."""

from __future__ import annotations

from django.utils.module_loading import import_string

from schoolsms.carriers.options import GatewayConfig
from schoolsms.messaging.gateway import gateway_keeper_register, gateway_register

# name -> (the Gateway class, the module whose CONFIG declares its options)
GATEWAYS = {
    "simulator": (
        "schoolsms.carriers.simulator.transport.SimulatorGateway",
        "schoolsms.carriers.simulator.config",
    ),
    "smpp": (
        "schoolsms.carriers.smpp.transport.SmppGateway",
        "schoolsms.carriers.smpp.config",
    ),
    "twilio": (
        "schoolsms.carriers.twilio.transport.TwilioGateway",
        "schoolsms.carriers.twilio.config",
    ),
}

# name -> the ConnectionKeeper of a gateway that holds connections open (the worker keeps them)
KEEPERS = {"smpp": "schoolsms.carriers.smpp.tasks.KEEPER"}


def register_all() -> None:
    """Called once the apps are loaded (CarriersConfig.ready)."""
    for name, (path, _config) in GATEWAYS.items():
        gateway_register(name=name, factory=import_string(path))
    for name, path in KEEPERS.items():
        gateway_keeper_register(name=name, keeper=import_string(path))


def gateway_configs() -> dict[str, GatewayConfig]:
    return {name: import_string(config + ".CONFIG") for name, (_path, config) in GATEWAYS.items()}
