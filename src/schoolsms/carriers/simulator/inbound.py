"""Texts people send to a simulated sender: read from Twilio's inbound webhook form and acted
on (keywords change consent and get their reply, which the simulator records as sent)."""

from __future__ import annotations

from django.http import HttpRequest

from schoolsms.accounts.models import Sender
from schoolsms.carriers.simulator.transport import SimulatorGateway
from schoolsms.messaging.callbacks import inbound_handle


def inbound_texts_take(*, sender: Sender, request: HttpRequest) -> list[str | None]:
    """Act on every text in one inbound webhook request; returns the replies sent."""
    gateway = SimulatorGateway(sender)
    return [
        inbound_handle(gateway=gateway, sender=sender, inbound=message)
        for message in gateway.parse_inbound(request)
    ]
