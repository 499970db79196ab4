"""`schoolsms token create`: an API token for a user, shown once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.accounts.services import api_token_create
from schoolsms.cliutil import organization_get


class Command(BaseCommand):
    help = "Create API tokens for the JSON API (Authorization: Bearer <token>)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a token and print it once")
        create.add_argument("--email", required=True, help="the user the token acts as")
        create.add_argument("--name", default="default", help="a label to recognise it by")
        create.add_argument(
            "--org",
            metavar="SLUG",
            default=None,
            help="the organization it acts in (needed when the user belongs to several)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip()
        user = get_user_model().objects.filter(username__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(f"--email: no active user {email!r} (create one with user create)")
        organization = organization_get(options["org"]) if options["org"] else None
        try:
            key = api_token_create(user=user, name=options["name"], organization=organization)
        except ValidationError as exc:
            raise CommandError(f"--org: {'; '.join(exc.messages)}") from None
        self.stderr.write("Store this token now; it cannot be shown again.")
        self.stdout.write(key)
