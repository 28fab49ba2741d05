"""Celery tasks of the metric engine: thin wrappers around the services, safe to run twice.

All are acknowledged late: a worker killed mid-run leaves its task to the
next worker, and the run it was writing rolls back (the previous good run
stays the one pages read). Rerunning a date on the same data gives the same
rows, so a redelivered task does no harm.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from segmentation import services
from segmentation.choices import RunKind, RunStatus, RunTrigger
from segmentation.models import MetricRun
from segmentation.selectors import latest_successful_run

NIGHTLY_HOUR = 2  # the nightly run's hour, Europe/Moscow (config/schedules.py)
_RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 6,
}


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


@shared_task(**_RETRY)
def metrics_recompute_nightly() -> str:
    """The full run as of yesterday, then the pruning of old runs."""
    run = services.metrics_recompute(as_of=yesterday(), trigger=RunTrigger.NIGHTLY)
    services.metric_runs_prune()
    return run.status


@shared_task(**_RETRY)
def metrics_catch_up() -> str:
    """Run the nightly recompute now if last night's did not happen (the broker was down).

    Hourly; it does nothing once yesterday's full run exists or before the
    nightly hour has come.
    """
    now = timezone.localtime()
    if now.hour < NIGHTLY_HOUR:
        return "not yet"
    done = MetricRun.objects.filter(
        as_of=yesterday(), kind=RunKind.FULL, status=RunStatus.SUCCEEDED
    ).exists()
    if done:
        return "up to date"
    return metrics_recompute_nightly()


@shared_task(bind=True, **_RETRY)
def metrics_recompute_clients(
    self, *, client_ids: list[int], import_run_id: int | None = None
) -> str:
    """The incremental run for the clients an import changed, on the date pages show.

    A recompute already running makes this one "skipped": it is retried a
    minute later, so the clients are not left for the night.
    """
    latest = latest_successful_run()
    as_of = latest.as_of if latest is not None else yesterday()
    trigger = RunTrigger.IMPORT if import_run_id is not None else RunTrigger.MANUAL
    run = services.metrics_recompute(as_of=as_of, client_ids=client_ids, trigger=trigger)
    if run.status == RunStatus.SKIPPED and self.request.retries < self.max_retries:
        raise self.retry(countdown=60)
    return run.status
