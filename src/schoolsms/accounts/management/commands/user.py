"""`schoolsms user create|remove`: a user's role in one organization, given or taken away."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schoolsms.accounts.models import Membership, Organization, Role
from schoolsms.accounts.services import membership_remove, user_create
from schoolsms.cliutil import organization_get


class Command(BaseCommand):
    help = "Give users a role in an organization, or take them out of it."

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
        remove = actions.add_parser(
            "remove",
            help="take a user out of an organization (their tokens for it stop working)",
        )
        remove.add_argument("--org", required=True, metavar="SLUG")
        remove.add_argument("--email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        if options["action"] == "remove":
            self.remove(organization, options["email"])
            return
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

    def remove(self, organization: Organization, email: str) -> None:
        user = get_user_model().objects.filter(username__iexact=email.strip()).first()
        membership = (
            Membership.objects.filter(user=user, organization=organization).first()
            if user is not None
            else None
        )
        if user is None or membership is None:
            raise CommandError(f"--email: {email.strip()!r} is not a member of {organization.slug}")
        try:
            membership_remove(organization=organization, user_id=user.pk)
        except ValidationError as exc:
            raise CommandError(f"--email: {'; '.join(exc.messages)}") from None
        self.stdout.write(f"User {user.username} is no longer a member of {organization.slug}.")
