"""`schoolsms sender configure --sender CODE --mps N`: a sender's sending settings."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from schoolsms.accounts.models import Sender
from schoolsms.messaging.gateway import gateway_names


class Command(BaseCommand):
    help = "Configure a sender (short code): throughput limit and gateway."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        configure = sub.add_parser("configure", help="change a sender's settings")
        configure.add_argument("--sender", required=True, help="the short code or number")
        configure.add_argument(
            "--mps", type=int, help="messages per second for all workers together (0 = no limit)"
        )
        configure.add_argument("--gateway", help=f"carrier gateway ({', '.join(gateway_names())})")
        show = sub.add_parser("show", help="print a sender's settings")
        show.add_argument("--sender", required=True)

    def _sender(self, code: str) -> Sender:
        sender = Sender.objects.filter(code=code).first()
        if sender is None:
            raise CommandError(f"--sender {code}: no such sender")
        return sender

    def handle(self, *args: Any, **options: Any) -> None:
        sender = self._sender(options["sender"])
        if options["action"] == "configure":
            fields = []
            if options.get("mps") is not None:
                if options["mps"] < 0:
                    raise CommandError("--mps must be 0 (no limit) or more")
                sender.mps = options["mps"]
                fields.append("mps")
            if options.get("gateway"):
                if options["gateway"] not in gateway_names():
                    raise CommandError(
                        f"--gateway {options['gateway']}: not one of {', '.join(gateway_names())}"
                    )
                sender.gateway = options["gateway"]
                fields.append("gateway")
            if not fields:
                raise CommandError("nothing to change: give --mps and/or --gateway")
            sender.save(update_fields=fields)
        limit = f"{sender.mps} messages/second" if sender.mps else "no limit"
        self.stdout.write(f"sender {sender.code}: gateway {sender.gateway}, {limit}")
