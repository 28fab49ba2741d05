"""Celery tasks of the metric engine: thin wrappers around the services, safe to run twice.

All are acknowledged late: a worker killed mid-run leaves its task to the
next worker, and the run it was writing rolls back (the previous good run
stays the one pages read). Rerunning a date on the same data gives the same
rows, so a redelivered task does no harm.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from accounts.models import User
from config.celery import queue
from segmentation import services
from segmentation.choices import RunKind, RunStatus, RunTrigger
from segmentation.models import MetricRun, SegmentRuleSet
from segmentation.selectors import latest_successful_run

logger = logging.getLogger(__name__)

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


def _skipped_retry_seconds() -> int:
    return int(getattr(settings, "METRIC_SKIPPED_RETRY_SECONDS", 60))


@shared_task(bind=True, **_RETRY)
def metrics_recompute_nightly(self, *, requested_at: str | None = None) -> str:
    """The full run as of yesterday, then the pruning of old runs.

    Skipped because another recompute holds the lock (a second trigger, or a
    crashed worker's session not yet ended by the database), it tries again
    a little later, and stops as soon as a full run of that date has
    succeeded since it was first requested.
    """
    requested = dt.datetime.fromisoformat(requested_at) if requested_at else timezone.now()
    as_of = yesterday()
    done_since = MetricRun.objects.filter(
        as_of=as_of, kind=RunKind.FULL, status=RunStatus.SUCCEEDED, started_at__gte=requested
    )
    if done_since.exists():
        return "up to date"
    # A retry after "skipped" records nothing new until it can run.
    run = _nightly(as_of, record_skipped=self.request.retries == 0)
    if run.status == RunStatus.SKIPPED and self.request.retries < self.max_retries:
        raise self.retry(
            kwargs={"requested_at": requested.isoformat()}, countdown=_skipped_retry_seconds()
        )
    return run.status


def _nightly(as_of: dt.date, record_skipped: bool = True) -> MetricRun:
    run = services.metrics_recompute(
        as_of=as_of, trigger=RunTrigger.NIGHTLY, record_skipped=record_skipped
    )
    if run.status == RunStatus.SUCCEEDED:
        services.metric_runs_prune()
    return run


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
    return _nightly(yesterday()).status


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
    run = services.metrics_recompute(
        as_of=as_of,
        client_ids=client_ids,
        trigger=trigger,
        record_skipped=self.request.retries == 0,
    )
    if run.status == RunStatus.SKIPPED and self.request.retries < self.max_retries:
        raise self.retry(countdown=_skipped_retry_seconds())
    return run.status


@shared_task(bind=True, **_RETRY)
def metrics_refresh_aggregates(self, *, run_id: int) -> str:
    """The base-wide figures of an incremental run, recomputed after it committed.

    Waits and tries again while another recompute holds the lock.
    """
    result = services.metrics_aggregates_refresh(run_id=run_id)
    if result == "skipped" and self.request.retries < self.max_retries:
        raise self.retry(countdown=_skipped_retry_seconds())
    return result


@shared_task(**_RETRY)
def metrics_recompute_now(*, user_id: int | None = None) -> str:
    """The "recompute now" button of the run log: the full run as of yesterday.

    Not retried when another recompute holds the lock: the "skipped" run it
    records is the answer the person who clicked sees.
    """
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    run = services.metrics_recompute(as_of=yesterday(), trigger=RunTrigger.MANUAL, user=user)
    return run.status


@shared_task(bind=True, **_RETRY)
def metrics_recompute_after_rules(self, rule_set_id: int) -> str:
    """A full run on new segment rules, as of the date pages show (the latest run's).

    Does nothing when a full run on these rules or newer ones already exists
    for that date (a redelivered task); waits a minute and tries again when
    another recompute holds the lock, so the rules do not wait for the night.
    """
    rule_set = SegmentRuleSet.objects.filter(pk=rule_set_id).select_related("created_by").first()
    if rule_set is None:
        return "no such rules"
    latest = latest_successful_run()
    as_of = latest.as_of if latest is not None else yesterday()
    done = MetricRun.objects.filter(
        as_of=as_of,
        kind=RunKind.FULL,
        status=RunStatus.SUCCEEDED,
        rule_set__version__gte=rule_set.version,
    ).exists()
    if done:
        return "up to date"
    run = services.metrics_recompute(
        as_of=as_of,
        trigger=RunTrigger.MANUAL,
        user=rule_set.created_by,
        record_skipped=self.request.retries == 0,
    )
    if run.status == RunStatus.SKIPPED and self.request.retries < self.max_retries:
        raise self.retry(countdown=_skipped_retry_seconds())
    return run.status


def queue_on_commit(task: Any, /, **kwargs: Any) -> None:
    """``queue`` once the caller's transaction commits, so the worker finds the rows."""
    transaction.on_commit(lambda: queue(task, **kwargs))
