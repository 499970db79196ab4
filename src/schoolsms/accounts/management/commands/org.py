"""`schoolsms org create|list`: organizations and the sender (short code) they text from."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.accounts.models import Organization
from schoolsms.accounts.services import organization_create


class Command(BaseCommand):
    help = "Create and list organizations (districts or schools)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create", help="create an organization; an existing sender code is shared"
        )
        create.add_argument("--slug", required=True, help="short name used in --org, e.g. lincoln")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--sender", required=True, metavar="CODE", help="short code or long code texted from"
        )
        create.add_argument("--program-name", default="", metavar="TEXT")
        create.add_argument(
            "--help-contact", default="", metavar="TEXT", help="email or phone for HELP replies"
        )
        create.add_argument("--timezone", default="America/New_York", metavar="TZ")
        create.add_argument(
            "--quiet-hours",
            default="21:00-08:00",
            metavar="HH:MM-HH:MM|off",
            help="no texts in this window of the recipient's local time (default 21:00-08:00)",
        )
        actions.add_parser("list", help="list organizations and their senders")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for org in Organization.objects.select_related("sender").order_by("slug"):
                self.stdout.write(f"{org.slug}\t{org.name}\t{org.sender.code}\t{org.timezone}")
            return
        sender_code = options["sender"].strip()
        shared = Organization.objects.filter(sender__code=sender_code).order_by("slug")
        sharing = [o.slug for o in shared]
        try:
            org = organization_create(
                slug=options["slug"].strip(),
                name=options["name"].strip(),
                sender_code=sender_code,
                program_name=options["program_name"].strip(),
                help_contact=options["help_contact"].strip(),
                timezone=options["timezone"].strip(),
                quiet_hours=options["quiet_hours"],
            )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        quiet = (
            f"{org.quiet_hours_start:%H:%M}-{org.quiet_hours_end:%H:%M}"
            if org.has_quiet_hours
            else "off"
        )
        self.stdout.write(
            f"Created organization {org.slug} ({org.name}); time zone {org.timezone}, "
            f"quiet hours {quiet}."
        )
        if sharing:
            self.stdout.write(
                f"Sender {org.sender.code} is shared with: {', '.join(sharing)} "
                "(consent on it is shared too)."
            )
        else:
            self.stdout.write(f"Sender {org.sender.code} ({org.sender.program_name}).")


_OPTION = {"code": "sender"}  # model field → the option that set it


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"--{_OPTION.get(field, field).replace('_', '-')}: {' '.join(messages)}"
            if field != "__all__"
            else " ".join(messages)
            for field, messages in exc.message_dict.items()
        )
    return "; ".join(exc.messages)
