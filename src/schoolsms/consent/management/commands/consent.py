"""`schoolsms consent import|block|unblock`: the consent registry and block list from the CLI."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.accounts.models import Organization
from schoolsms.cliutil import (
    count_rows,
    open_csv,
    organization_get,
    progress_bar,
    report_import_errors,
)
from schoolsms.consent.importer import ConsentImportError, consent_import
from schoolsms.consent.models import ConsentStatus
from schoolsms.consent.selectors import consent_record_get
from schoolsms.consent.services import number_block, number_unblock
from schoolsms.phones import InvalidPhoneNumber, display, to_e164


class Command(BaseCommand):
    help = "Import consent statuses; block and unblock numbers."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = actions.add_parser(
            "import",
            help=(
                "set statuses from FILE.csv with columns phone,sms_status[,changed_at] "
                f"(sms_status: {', '.join(ConsentStatus.values)}); all or nothing"
            ),
        )
        imp.add_argument("--org", required=True, metavar="SLUG")
        imp.add_argument("file", metavar="FILE.csv")
        block = actions.add_parser(
            "block", help="never text NUMBER from this organization (consent is kept)"
        )
        block.add_argument("--org", required=True, metavar="SLUG")
        block.add_argument("number", metavar="NUMBER")
        block.add_argument("--reason", default="", metavar="TEXT")
        unblock = actions.add_parser("unblock", help="take NUMBER off the block list")
        unblock.add_argument("--org", required=True, metavar="SLUG")
        unblock.add_argument("number", metavar="NUMBER")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        if options["action"] == "import":
            self._import(organization, options["file"])
            return
        phone = _number(options["number"], organization)
        shown = display(phone)
        if options["action"] == "block":
            if number_block(
                organization=organization, phone=phone, reason=options["reason"].strip()
            ):
                self.stdout.write(f"Blocked {shown} for {organization.slug}.")
            else:
                self.stdout.write(f"{shown} was already blocked for {organization.slug}.")
        elif number_unblock(organization=organization, phone=phone):
            self.stdout.write(f"Unblocked {shown} for {organization.slug}.")
        else:
            self.stdout.write(f"{shown} was not blocked for {organization.slug}.")
        record = consent_record_get(organization=organization, phone=phone)
        status = record.get_status_display() if record else "no consent record"
        self.stdout.write(f"Consent status unchanged: {status}.")

    def _import(self, organization: Organization, path: str) -> None:
        with open_csv(path) as file, progress_bar(count_rows(path)) as progress:
            try:
                summary = consent_import(organization=organization, file=file, progress=progress)
            except ConsentImportError as exc:
                raise report_import_errors(exc, self.stderr, path) from None
        self.stdout.write(
            f"Imported {path} into sender {organization.sender.code} "
            f"({organization.slug}): {summary}."
        )


def _number(value: str, organization: Organization) -> str:
    try:
        return to_e164(value, organization.phone_region)
    except InvalidPhoneNumber as exc:
        raise CommandError(f"NUMBER: {exc}") from None
