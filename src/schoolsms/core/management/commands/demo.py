"""`schoolsms demo [--if-empty]`: create the demo district and print how to log in."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms import localfiles
from schoolsms.accounts.models import Organization
from schoolsms.core import demo


class Command(BaseCommand):
    help = "Create a demo district (about 2,000 contacts with consent history) and an admin user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but print the login hint) when any organization exists",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        localfiles.local_files_create()
        missing = localfiles.database_missing()
        if missing is not None:
            self.stderr.write(f"no database at {missing}: creating it (schoolsms migrate)")
            call_command("migrate", interactive=False, verbosity=0)
        url = settings.SCHOOLSMS_PUBLIC_URL
        if Organization.objects.exists():
            if not options["if_empty"]:
                if Organization.objects.filter(slug=demo.SLUG).exists():
                    raise CommandError(
                        f"the demo organization {demo.SLUG!r} already exists; use an empty database"
                    )
            else:
                self._hint(url)
                return
        started = time.monotonic()
        district = demo.demo_create()
        demo.credentials_save(demo.ADMIN_EMAIL, district.password)
        counts = ", ".join(f"{n} {status}" for status, n in district.numbers.items())
        self.stderr.write(
            f"Created {district.organization.name}: {district.contacts} contacts; SMS numbers: "
            f"{counts} (in {time.monotonic() - started:.1f} s)."
        )
        self._login(url, demo.ADMIN_EMAIL, district.password)

    def _hint(self, url: str) -> None:
        saved = demo.credentials_load()
        if saved is None:
            self.stdout.write(f"Open {url}/ and log in with your account.")
        else:
            self._login(url, *saved)

    def _login(self, url: str, email: str, password: str) -> None:
        self.stdout.write(f"Open {url}/")
        self.stdout.write(f"Demo login: {email}  password: {password}")
