"""`schoolsms prune --older-than DAYS`: archive, then delete, old message rows."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from schoolsms.core.retention import prune


class Command(BaseCommand):
    help = (
        "Write the message rows of broadcasts completed more than DAYS ago to gzip CSV files "
        "(SMS Log columns, one file per organization and month), then delete them; finished "
        "background-task rows older than DAYS are deleted too. Consent history is never deleted."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument(
            "--archive-dir",
            default=settings.SCHOOLSMS_ARCHIVE_DIR,
            help="where the archives go (default SCHOOLSMS_ARCHIVE_DIR, var/archive)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"]
        if days < 1:
            raise CommandError("--older-than: at least 1 day")
        archive_dir = Path(options["archive_dir"])
        try:
            archive_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"--archive-dir {archive_dir}: {exc.strerror}") from None
        report = prune(
            older_than_days=days,
            archive_dir=archive_dir,
            progress=lambda slug: (
                self.stderr.write(f"organization {slug} …") if options["verbosity"] > 1 else None
            ),
        )
        self.stdout.write(report.summary())
        for path in report.files:
            self.stdout.write(f"  {path}")
