"""Every carrier gateway by name: the values `Sender.gateway` may take."""

from __future__ import annotations

from django.utils.module_loading import import_string

from schoolsms.messaging.gateway import gateway_register

GATEWAYS = {
    "simulator": "schoolsms.carriers.simulator.transport.SimulatorGateway",
}


def register_all() -> None:
    """Called once the apps are loaded (CarriersConfig.ready)."""
    for name, path in GATEWAYS.items():
        gateway_register(name=name, factory=import_string(path))
