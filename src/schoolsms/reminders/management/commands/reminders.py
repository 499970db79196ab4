"""`schoolsms reminders send`: email the Pending Opt-In reminder now, in this process."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from schoolsms.accounts.models import Organization
from schoolsms.reminders.models import ReminderEmail, RunSource, RunStatus, SkipReason
from schoolsms.reminders.selectors import reminder_plan
from schoolsms.reminders.services import reminder_run_create, reminder_run_execute


def organization_for(slug: str) -> Organization:
    organization = Organization.objects.select_related("sender").filter(slug=slug).first()
    if organization is None:
        raise CommandError(f"--org: no organization with slug {slug!r}")
    return organization


class Command(BaseCommand):
    help = "Email an opt-in reminder (with the flyer) to contacts whose numbers are Pending Opt-In."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        send = actions.add_parser(
            "send", help="send the reminder now; prints how many were sent, skipped and failed"
        )
        send.add_argument("--org", required=True, metavar="SLUG")
        send.add_argument(
            "--dry-run", action="store_true", help="list the recipients and send nothing"
        )
        send.add_argument(
            "--force",
            action="store_true",
            help="also email contacts reminded in the last 7 days or whose address was refused",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_for(options["org"])
        if options["dry_run"]:
            self.dry_run(organization, force=options["force"])
        else:
            self.send(organization, force=options["force"])

    def dry_run(self, organization: Organization, *, force: bool) -> None:
        plan = reminder_plan(organization=organization, force=force)
        for r in plan.to_send:
            phones = ", ".join(r.masked_phones)
            self.stdout.write(f"{r.contact.name} <{r.address}> [{r.language}] {phones}")
        self.stdout.write(f"Would send: {len(plan.to_send)}")
        self.stdout.write(f"Would skip: {len(plan.skipped)}{_reasons(plan.skipped_by_reason())}")
        self.stdout.write("Dry run: nothing was sent.")

    def send(self, organization: Organization, *, force: bool) -> None:
        try:
            run = reminder_run_create(
                organization=organization, started_by=None, force=force, source=RunSource.CLI
            )
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        bar = tqdm(desc="Reminders", unit="email", file=sys.stderr, disable=None)

        def progress(email: ReminderEmail) -> None:
            if bar.total is None:
                bar.total = email.run.to_send_count or None
                bar.refresh()
            bar.update(1)

        try:
            run = reminder_run_execute(run_id=run.pk, progress=progress)
        finally:
            bar.close()
        skipped = dict.fromkeys(SkipReason.values, 0)
        for reason in run.emails.filter(outcome="skipped").values_list("skip_reason", flat=True):
            skipped[reason] += 1
        self.stdout.write(f"Sent: {run.sent_count}")
        self.stdout.write(f"Skipped: {run.skipped_count}{_reasons(skipped)}")
        self.stdout.write(f"Failed: {run.failed_count}")
        for email in run.emails.filter(outcome="failed").order_by("id")[:20]:
            self.stdout.write(f"  {email.address}: {email.smtp_error}")
        if run.status == RunStatus.INTERRUPTED:
            raise CommandError(
                f"stopped early, the mail server was lost ({run.error}); "
                "run it again to send the rest"
            )


def _reasons(counts: dict[str, int]) -> str:
    labels = dict(SkipReason.choices)
    parts = [f"{labels[k].lower()}: {n}" for k, n in counts.items() if n]
    return f" ({'; '.join(parts)})" if parts else ""
