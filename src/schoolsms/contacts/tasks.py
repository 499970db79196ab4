"""Background work of contacts: imports (web uploads, dropped rosters) on the "imports" queue,
and the drop-folder check the worker makes between tasks."""

from __future__ import annotations

from django_tasks import task

from schoolsms.contacts.jobs import import_job_run
from schoolsms.contacts.models import ImportJob


@task(queue_name="imports")
def import_job_task(job_id: int) -> str:
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "not queued"


def import_job_enqueue(*, job: ImportJob) -> None:
    """Queue the job in the transaction that recorded it: the queue lives in the same database,
    so the worker sees both or neither."""
    import_job_task.enqueue(job.pk)
