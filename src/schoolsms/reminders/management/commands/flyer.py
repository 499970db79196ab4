"""`schoolsms flyer`: write an organization's opt-in flyer PDF to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.reminders.flyer import flyer_render
from schoolsms.reminders.management.commands.reminders import organization_for
from schoolsms.reminders.texts import LANGUAGES


class Command(BaseCommand):
    help = "Write the printable opt-in flyer (PDF, US Letter) of an organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--language", default="en", help=f"one of {', '.join(LANGUAGES)}")
        parser.add_argument("--output", required=True, metavar="FILE.pdf")

    def handle(self, *args: Any, **options: Any) -> None:
        language = options["language"].strip().lower()
        if language not in LANGUAGES:
            raise CommandError(
                f"--language: {options['language']!r} is not a flyer language "
                f"(use one of {', '.join(LANGUAGES)})"
            )
        organization = organization_for(options["org"])
        path = Path(options["output"])
        pdf = flyer_render(organization=organization, language=language)
        try:
            path.write_bytes(pdf)
        except OSError as exc:
            raise CommandError(f"--output {path}: cannot write it ({exc.strerror})") from None
        self.stdout.write(f"Wrote {path} ({len(pdf):,} bytes, {language})")
