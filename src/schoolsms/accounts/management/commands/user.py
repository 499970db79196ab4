"""`schoolsms user create`: a user with a role in one organization."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.accounts.models import Role
from schoolsms.accounts.services import user_create
from schoolsms.cliutil import organization_get


class Command(BaseCommand):
    help = "Create users and give them a role in an organization."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="create a user (or give an existing one a role); prints a generated password",
        )
        create.add_argument("--org", required=True, metavar="SLUG")
        create.add_argument("--email", required=True)
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument(
            "--password", default=None, help="default: generate one and print it once"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        try:
            user, generated = user_create(
                organization=organization,
                email=options["email"],
                role=options["role"],
                password=options["password"],
            )
        except ValidationError as exc:
            raise CommandError(f"--email/--role: {'; '.join(exc.messages)}") from None
        self.stdout.write(f"User {user.username} is {options['role']} of {organization.slug}.")
        if generated:
            self.stdout.write(f"Password: {generated}")
        elif options["password"] is None:
            self.stdout.write("(an existing user: password unchanged)")
