"""`schoolsms broadcast send|cancel|show`: broadcasts from the command line, for scripts."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import zoneinfo
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from schoolsms.accounts.models import Organization
from schoolsms.messaging import selectors, services
from schoolsms.messaging.models import Broadcast, Reason
from schoolsms.messaging.text import text_check


def _error(exc: ValidationError) -> CommandError:
    return CommandError("; ".join(exc.messages))


def parse_at(value: str, organization: Organization) -> dt.datetime:
    """ISO 8601; without an offset it is the organization's local time."""
    try:
        at = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"--at {value!r} is not an ISO date-time (like 2026-12-01T07:30 or "
            "2026-12-01T07:30-05:00)"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zoneinfo.ZoneInfo(organization.timezone))
    return at


# `--message-es TEXT` (or `--message-es=TEXT`): the text for contacts whose language is es.
LANGUAGE_OPTION = re.compile(r"^--message-([A-Za-z]{2,3})(?:=(.*))?$", re.DOTALL)


def split_language_messages(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """Takes `--message-LANG TEXT` options out of a command line: argparse cannot declare one
    option per language the organization may have."""
    texts: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        match = LANGUAGE_OPTION.match(args[i])
        if match is None:
            rest.append(args[i])
            i += 1
            continue
        code = match.group(1).lower()
        if match.group(2) is not None:
            texts[code] = match.group(2)
            i += 1
        elif i + 1 < len(args):
            texts[code] = args[i + 1]
            i += 2
        else:
            raise CommandError(f"{args[i]} needs the text in that language")
    return texts, rest


class Command(BaseCommand):
    help = "Send (or schedule), cancel and show broadcasts."
    # Skip the system checks, which import every URL and API module: over half a second of
    # start-up that a scripted send pays on every run, before an emergency text is queued.
    # (`schoolsms check` runs them; so do `serve` and `migrate`.)
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parse = parser.parse_args

        def parse_args(args: Any = None, namespace: Any = None) -> Any:
            texts, rest = split_language_messages(list(args) if args is not None else sys.argv[2:])
            options = parse(rest, namespace)
            options.language_messages = texts
            return options

        parser.parse_args = parse_args  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        send = actions.add_parser(
            "send", help="create a broadcast and send it now or at --at; prints its id"
        )
        send.add_argument("--org", required=True, metavar="SLUG")
        send.add_argument("--name", required=True)
        send.add_argument(
            "--message",
            required=True,
            metavar="TEXT",
            help="the text (English, and for everyone whose language has no text of its own); "
            "--message-LANG TEXT (like --message-es) adds the text for contacts in that language",
        )
        send.add_argument(
            "--role", action="append", default=[], help="only contacts with this role (repeatable)"
        )
        send.add_argument(
            "--school",
            action="append",
            default=[],
            help="only contacts at this school (repeatable)",
        )
        send.add_argument(
            "--contacts",
            metavar="FILE",
            help="only these contacts: external ids one per line, or a CSV with external_id",
        )
        send.add_argument("--emergency", action="store_true", help="send through quiet hours")
        send.add_argument(
            "--at", metavar="ISO-DATETIME", help="schedule (organization's time zone if no offset)"
        )

        cancel = actions.add_parser("cancel", help="cancel a broadcast that is not finished")
        cancel.add_argument("id", type=int)

        show = actions.add_parser("show", help="counts of a broadcast's messages per result")
        show.add_argument("id", type=int)
        show.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "send":
            self.send(options)
        elif action == "cancel":
            self.cancel(options["id"])
        else:
            self.show(options["id"], options["format"])

    def send(self, options: dict[str, Any]) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"--org: no organization with slug {options['org']!r}")
        external_ids: list[str] = []
        if options["contacts"]:
            path = Path(options["contacts"])
            try:
                data = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"--contacts {path}: cannot read it ({exc})") from None
            external_ids = services.parse_external_ids(data)
            if not external_ids:
                raise CommandError(f"--contacts {path}: the file holds no external ids")
        at = parse_at(options["at"], organization) if options["at"] else None
        try:
            with transaction.atomic():  # a refused send leaves no draft behind
                broadcast = services.broadcast_create(
                    organization=organization,
                    name=options["name"],
                    text=options["message"],
                    roles=options["role"],
                    schools=options["school"],
                    external_ids=external_ids,
                    emergency=options["emergency"],
                    texts=options.get("language_messages") or {},
                )
                services.broadcast_send(broadcast=broadcast, at=at)
        except ValidationError as exc:
            raise _error(exc) from None
        check = text_check(broadcast.text)
        audience = selectors.audience_preview(
            organization=organization,
            roles=broadcast.audience_roles,
            schools=broadcast.audience_schools,
            external_ids=broadcast.audience_external_ids,
        )
        when = f"scheduled for {at.isoformat(timespec='minutes')}" if at else "queued to send now"
        self.stderr.write(
            f"Broadcast {broadcast.pk} {broadcast.name!r}: {check.segments} segment(s) "
            f"{check.encoding}, {audience['contacts']} contact(s), {audience['numbers']} SMS "
            f"number(s); {when}{' (emergency)' if broadcast.emergency else ''}."
        )
        self.stdout.write(str(broadcast.pk))

    def _get(self, broadcast_id: int) -> Broadcast:
        broadcast = Broadcast.objects.select_related("organization").filter(pk=broadcast_id).first()
        if broadcast is None:
            raise CommandError(f"no broadcast with id {broadcast_id}")
        return broadcast

    def cancel(self, broadcast_id: int) -> None:
        broadcast = self._get(broadcast_id)
        try:
            services.broadcast_cancel(broadcast=broadcast)
        except ValidationError as exc:
            raise _error(exc) from None
        self.stdout.write(f"Broadcast {broadcast.pk} canceled.")

    def show(self, broadcast_id: int, fmt: str) -> None:
        broadcast = self._get(broadcast_id)
        counts = selectors.broadcast_counts(broadcast)
        if fmt == "json":
            self.stdout.write(json.dumps(counts, indent=2))
            return
        org = broadcast.organization
        self.stdout.write(
            f"Broadcast {broadcast.pk} · {broadcast.name} · {org.slug} · "
            f"{broadcast.get_status_display()}"
        )
        for label, n in counts["by_result"].items():
            self.stdout.write(f"  {label:<20}{n:>9}")
        self.stdout.write(f"  {'Total':<20}{counts['total']:>9}")
        reasons = {code: n for code, n in counts["by_reason"].items() if n}
        if reasons:
            self.stdout.write("Reasons:")
            for code, n in reasons.items():
                self.stdout.write(f"  {code:<20}{n:>9}  {Reason(code).label}")
