"""`schoolsms contacts import`: load contacts and their numbers from the school system's CSV."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from schoolsms.cliutil import (
    count_rows,
    open_csv,
    organization_get,
    progress_bar,
    report_import_errors,
)
from schoolsms.contacts.services import ContactImportError, contacts_import


class Command(BaseCommand):
    help = "Import contacts from CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = actions.add_parser(
            "import",
            help=(
                "upsert contacts by external_id from FILE.csv (columns external_id, first_name, "
                "last_name, email, language, role, school, phone1, sms1, phone2, sms2, ...); "
                "a file with any bad row imports nothing"
            ),
        )
        imp.add_argument("--org", required=True, metavar="SLUG")
        imp.add_argument("file", metavar="FILE.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        path = options["file"]
        with open_csv(path) as file, progress_bar(count_rows(path)) as progress:
            try:
                summary = contacts_import(organization=organization, file=file, progress=progress)
            except ContactImportError as exc:
                raise report_import_errors(exc, self.stderr, path) from None
        self.stdout.write(f"Imported {path} into {organization.slug}: {summary}.")
