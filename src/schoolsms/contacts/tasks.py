"""Background work of contacts: imports (web uploads, dropped rosters) on the "imports" queue,
and the drop-folder check the worker makes between tasks."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_tasks import task

from schoolsms.contacts.jobs import import_job_run
from schoolsms.contacts.models import ImportJob


@task(queue_name="imports")
def import_job_task(job_id: int) -> str:
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "not queued"


def import_job_enqueue(*, job: ImportJob) -> None:
    """Queue the job. With the database backend, in the transaction that recorded it (the worker
    sees both or neither); with a broker, once that transaction commits."""
    if settings.SCHOOLSMS_TASK_BACKEND == "database":
        import_job_task.enqueue(job.pk)
    else:
        transaction.on_commit(lambda: import_job_task.enqueue(job.pk))
