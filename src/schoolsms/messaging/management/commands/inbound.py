"""`schoolsms inbound`: a text to a sender, taken by the same handler as the carriers' webhooks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.accounts.models import Organization, Sender
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.inbound import inbound_receive
from schoolsms.phones import InvalidPhoneNumber, to_e164


class Command(BaseCommand):
    help = (
        "Take a text sent to a sender as if a carrier had delivered it (keywords change consent) "
        "and print the reply, if any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sender", required=True, metavar="CODE", help="our short code")
        parser.add_argument("--from", required=True, dest="from_", metavar="NUMBER")
        parser.add_argument("--body", required=True, metavar="TEXT")
        parser.add_argument(
            "--message-id",
            default="",
            metavar="ID",
            help="the carrier's message id; a second text with the same id changes nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sender = Sender.objects.filter(code=options["sender"].strip()).first()
        if sender is None:
            raise CommandError(f"--sender: no sender with code {options['sender']!r}")
        org = Organization.objects.filter(sender=sender).order_by("id").first()
        try:
            phone = to_e164(options["from_"], org.phone_region if org else "US")
        except InvalidPhoneNumber as exc:
            raise CommandError(f"--from: {exc}") from None
        outcome = inbound_receive(
            sender=sender,
            inbound=InboundMessage(
                sender_phone=phone,
                to=sender.code,
                body=options["body"],
                carrier_id=options["message_id"].strip(),
            ),
            channel="cli",
        )
        if outcome.duplicate:
            self.stderr.write(f"message {options['message_id']} was handled before: no change")
        elif outcome.reply is not None:
            self.stdout.write(outcome.reply)
