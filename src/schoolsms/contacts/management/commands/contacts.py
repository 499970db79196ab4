"""`schoolsms contacts import|watch`: load contacts from the school system's CSV or OneRoster
bundle, and name the drop folder the worker syncs the roster from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.cliutil import (
    count_rows,
    open_csv,
    organization_get,
    progress_bar,
    report_import_errors,
)
from schoolsms.contacts.oneroster.bundle import is_bundle
from schoolsms.contacts.oneroster.services import roster_import
from schoolsms.contacts.services import ContactImportError, TooManyInactivated, contacts_import
from schoolsms.contacts.sync import RosterSettingsError, roster_settings_update


class Command(BaseCommand):
    help = "Import contacts from CSV or a OneRoster bundle; set the roster drop folder."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = actions.add_parser(
            "import",
            help=(
                "upsert contacts by external_id from FILE: a CSV (columns external_id, "
                "first_name, last_name, email, language, role, school, phone1, sms1, ...) or a "
                "OneRoster .zip bundle (manifest.csv, orgs.csv, users.csv); a file with any bad "
                "row imports nothing"
            ),
        )
        imp.add_argument("--org", required=True, metavar="SLUG")
        imp.add_argument(
            "--confirm-inactivation",
            action="store_true",
            help="import a roster even if it makes more contacts inactive than the "
            "organization's limit allows",
        )
        imp.add_argument("file", metavar="FILE")
        watch = actions.add_parser(
            "watch",
            help="the worker imports each new OneRoster bundle dropped in DIR (oldest first, "
            "once) and moves it to DIR/done or DIR/failed with a report beside it",
        )
        watch.add_argument("--org", required=True, metavar="SLUG")
        where = watch.add_mutually_exclusive_group()
        where.add_argument("--folder", metavar="DIR", help="the drop folder to watch")
        where.add_argument("--off", action="store_true", help="stop watching a folder")
        watch.add_argument(
            "--language-column",
            metavar="COLUMN",
            help="the users.csv column holding each user's language, e.g. metadata.language "
            "('' for none: everyone English)",
        )
        watch.add_argument(
            "--inactivate-limit",
            type=int,
            metavar="PERCENT",
            help="a roster making more than this share of the active contacts inactive waits "
            "for an admin's confirmation (default 20)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        if options["action"] == "watch":
            self._watch(organization, options)
            return
        path = options["file"]
        with open_csv(path) as file:
            try:
                if is_bundle(file):
                    with progress_bar(0, unit="user") as progress:
                        summary = roster_import(
                            organization=organization,
                            file=file,
                            size=os.fstat(file.fileno()).st_size,
                            confirmed=options["confirm_inactivation"],
                            progress=progress,
                        )
                else:
                    with progress_bar(count_rows(path)) as progress:
                        summary = contacts_import(
                            organization=organization, file=file, progress=progress
                        )
            except ContactImportError as exc:
                raise report_import_errors(exc, self.stderr, path) from None
            except TooManyInactivated as exc:
                raise CommandError(
                    f"{path}: {exc}; run again with --confirm-inactivation to import it",
                    returncode=1,
                ) from None
        self.stdout.write(f"Imported {path} into {organization.slug}: {summary}.")

    def _watch(self, organization: Any, options: dict[str, Any]) -> None:
        folder = "" if options["off"] else options["folder"]
        if folder:
            folder = str(Path(folder).expanduser().resolve())
        try:
            settings = roster_settings_update(
                organization=organization,
                folder=folder,
                language_column=options["language_column"],
                inactivate_limit_percent=options["inactivate_limit"],
            )
        except RosterSettingsError as exc:
            raise CommandError(str(exc)) from None
        if settings.folder:
            self.stdout.write(
                f"{organization.slug}: the worker imports OneRoster bundles dropped in "
                f"{settings.folder} (language column: {settings.language_column or 'none'}, "
                f"confirmation above {settings.inactivate_limit_percent}% inactivated)."
            )
        else:
            self.stdout.write(f"{organization.slug}: no drop folder is watched.")
