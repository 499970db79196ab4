"""Every carrier gateway by name: the values `Sender.gateway` may take, and what each needs
configured."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.module_loading import import_string

from schoolsms.accounts.models import Sender
from schoolsms.carriers.options import GatewayConfig
from schoolsms.messaging.gateway import (
    ConnectionKeeper,
    Gateway,
    GatewayFactory,
    gateway_keeper_register,
    gateway_register,
)

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


# Gateways a sender has used in this process (their classes imported).
_MADE: set[str] = set()


def _gateway_factory(name: str, path: str) -> GatewayFactory:
    """The gateway class at `path`, imported when a sender first needs it: a command or a
    worker starts without loading every carrier's client (requests, the Twilio and SMPP
    code), which was a tenth of a second of each start-up."""

    def factory(sender: Sender) -> Gateway:
        gateway_class: GatewayFactory = import_string(path)
        _MADE.add(name)
        return gateway_class(sender)

    return factory


def _keeper(name: str, path: str) -> ConnectionKeeper:
    """The gateway's ConnectionKeeper at `path`, imported once a sender uses the gateway:
    before that (no sender to keep a connection for, and no gateway made that could have
    opened one) there is nothing to keep, close or wait for."""

    def loaded(needed: bool) -> ConnectionKeeper | None:
        if not needed and name not in _MADE:
            return None
        _MADE.add(name)
        keeper: ConnectionKeeper = import_string(path)
        return keeper

    def keep(senders: Sequence[Sender]) -> None:
        keeper = loaded(bool(senders))
        if keeper is not None:
            keeper.keep(senders)

    def close() -> None:
        keeper = loaded(False)
        if keeper is not None:
            keeper.close()

    def busy() -> bool:
        keeper = loaded(False)
        return keeper is not None and keeper.busy()

    return ConnectionKeeper(keep=keep, close=close, busy=busy)


def register_all() -> None:
    """Called once the apps are loaded (CarriersConfig.ready)."""
    for name, (path, _config) in GATEWAYS.items():
        gateway_register(name=name, factory=_gateway_factory(name, path))
    for name, path in KEEPERS.items():
        gateway_keeper_register(name=name, keeper=_keeper(name, path))


def gateway_configs() -> dict[str, GatewayConfig]:
    return {name: import_string(config + ".CONFIG") for name, (_path, config) in GATEWAYS.items()}
