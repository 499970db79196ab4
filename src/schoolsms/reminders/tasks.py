"""Background work: a reminder run executed by the task worker on the "email" queue."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from schoolsms.reminders.models import ReminderRun
from schoolsms.reminders.services import reminder_run_execute


@task(queue_name="email")
def reminder_run_task(run_id: int) -> str:
    run = reminder_run_execute(run_id=run_id)
    return run.status


def reminder_run_enqueue(*, run: ReminderRun) -> None:
    """Queue the run once the transaction that created it commits (the worker must see it)."""
    transaction.on_commit(lambda: reminder_run_task.enqueue(run.pk))
