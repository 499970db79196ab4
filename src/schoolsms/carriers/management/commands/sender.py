"""`schoolsms sender configure|show|reseal`: which carrier gateway a sender uses, its options
(secrets sealed, never shown back) and its messages per second."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from schoolsms.accounts.models import Sender
from schoolsms.carriers.registry import gateway_configs
from schoolsms.carriers.selectors import gateway_settings_display
from schoolsms.carriers.services import (
    GatewayConfigError,
    sender_gateway_configure,
    senders_reseal,
)


class Command(BaseCommand):
    help = "Configure a sender (short code): carrier gateway, its options, throughput limit."

    def add_arguments(self, parser: ArgumentParser) -> None:
        configs = gateway_configs()
        sub = parser.add_subparsers(dest="action", required=True)
        configure = sub.add_parser("configure", help="change a sender's settings")
        configure.add_argument("--sender", required=True, help="the short code or number")
        configure.add_argument(
            "--mps", type=int, help="messages per second for all workers together (0 = no limit)"
        )
        configure.add_argument("--gateway", help=f"carrier gateway ({', '.join(sorted(configs))})")
        seen: set[str] = set()
        for name, config in sorted(configs.items()):
            for option in config.options:
                if option.key in seen:
                    continue
                seen.add(option.key)
                configure.add_argument(
                    option.flag, dest=f"opt_{option.key}", help=f"{name}: {option.help}"
                )
        show = sub.add_parser("show", help="print a sender's settings (secrets masked)")
        show.add_argument("--sender", required=True)
        sub.add_parser("reseal", help="seal every stored secret with the current first key")

    def _sender(self, code: str) -> Sender:
        sender = Sender.objects.filter(code=code).first()
        if sender is None:
            raise CommandError(f"--sender {code}: no such sender")
        return sender

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reseal":
            count = senders_reseal()
            self.stdout.write(f"resealed the secrets of {count} sender(s)")
            return
        sender = self._sender(options["sender"])
        if options["action"] == "configure":
            values = {
                key[4:]: value
                for key, value in options.items()
                if key.startswith("opt_") and value is not None
            }
            if options.get("mps") is None and not options.get("gateway") and not values:
                raise CommandError("nothing to change: give --gateway, its options and/or --mps")
            try:
                sender = sender_gateway_configure(
                    sender=sender, gateway=options.get("gateway"), values=values, mps=options["mps"]
                )
            except GatewayConfigError as exc:
                for error in exc.errors[:-1]:
                    self.stderr.write(error)
                raise CommandError(exc.errors[-1]) from None
        limit = f"{sender.mps} messages/second" if sender.mps else "no limit"
        self.stdout.write(f"sender {sender.code}: gateway {sender.gateway}, {limit}")
        for label, value in gateway_settings_display(sender):
            self.stdout.write(f"  {label}: {value}")
