"""Celery tasks of crm: thin wrappers, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from crm.importers import jobs


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_run_execute(run_id: int) -> str:
    """Import a confirmed upload in the background; returns the run's final status.

    Acknowledged late: if the worker dies mid-import, the broker hands the
    task to another worker, which finds the run "running" and starts over
    (the first attempt's transaction never committed).
    """
    return jobs.import_execute(run_id).status
