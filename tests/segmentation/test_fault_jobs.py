"""Metric runs with real parts failing: a worker killed mid-run, two triggers at once.

Real PostgreSQL, Redis and Celery worker processes. The data is a small demo
base, large enough that a full run lasts a few seconds.
"""

from __future__ import annotations

import signal
import time

import pytest
from django.core.management import call_command

from segmentation.choices import RunKind, RunStatus, RunTrigger
from segmentation.models import MetricRun
from segmentation.services import metrics_recompute
from segmentation.tasks import metrics_recompute_nightly, yesterday
from tests.segmentation._compare import stored
from tests.workers import empty_task_queue, needs_services, start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.services, needs_services]


@pytest.fixture
def demo_base(transactional_db):
    """A demo base whose full run takes a few seconds, ending yesterday."""
    call_command("seed_demo", clients=600, lines=400_000, as_of=yesterday(), verbosity=0)


@pytest.fixture
def lazy_tasks():
    from config.celery import app

    app.conf.task_always_eager = False
    empty_task_queue()
    yield
    app.conf.task_always_eager = True


def test_a_worker_killed_mid_run_leaves_the_good_run_and_the_retry_equals_a_clean_run(
    demo_base, lazy_tasks, tmp_path
):
    first = start_worker(tmp_path, "first")
    second = None
    try:
        metrics_recompute_nightly.delay()

        def running() -> bool:
            return MetricRun.objects.filter(status=RunStatus.RUNNING).exists()

        wait_for(running, 120, "the first worker to start the run", tmp_path)
        time.sleep(1.0)
        assert MetricRun.objects.get().status == RunStatus.RUNNING  # still in the middle
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        # Nothing of the interrupted run is readable: no good run, no rows.
        assert not MetricRun.objects.filter(status=RunStatus.SUCCEEDED).exists()
        interrupted = MetricRun.objects.get()
        assert not stored(interrupted)["snapshots"]

        # The killed worker's database session may hold the lock a little longer: the
        # redelivered task is then skipped and tries again two seconds later.
        second = start_worker(
            tmp_path, "second", CELERY_VISIBILITY_TIMEOUT="2", METRIC_SKIPPED_RETRY_SECONDS="2"
        )

        def retried() -> bool:
            return MetricRun.objects.filter(status=RunStatus.SUCCEEDED).exists()

        wait_for(retried, 240, "the redelivered task to finish the run", tmp_path)
    finally:
        stop_worker(first)
        stop_worker(second)
    retry = MetricRun.objects.get(status=RunStatus.SUCCEEDED)
    assert (retry.as_of, retry.kind, retry.trigger) == (
        yesterday(),
        RunKind.FULL,
        RunTrigger.NIGHTLY,
    )
    interrupted.refresh_from_db()  # closed by the next run to take the lock
    assert interrupted.status == RunStatus.FAILED and "Interrupted" in interrupted.error
    clean = metrics_recompute(as_of=yesterday(), trigger=RunTrigger.MANUAL)
    assert clean.status == RunStatus.SUCCEEDED
    assert stored(retry) == stored(clean)
    assert stored(retry)["snapshots"]


def test_two_triggers_at_once_give_one_run_and_one_skipped(demo_base, lazy_tasks, tmp_path):
    extra = {"METRIC_SKIPPED_RETRY_SECONDS": "2"}
    workers = [start_worker(tmp_path, "one", **extra), start_worker(tmp_path, "two", **extra)]
    try:
        time.sleep(3)  # both workers listening before the two triggers
        metrics_recompute_nightly.delay()
        metrics_recompute_nightly.delay()

        def both_done() -> bool:
            return MetricRun.objects.exclude(status=RunStatus.RUNNING).count() == 2

        wait_for(both_done, 240, "both triggers to end", tmp_path)
        time.sleep(5)  # the skipped trigger retries, finds the run done and adds none
    finally:
        for worker in workers:
            stop_worker(worker)
    runs = list(
        MetricRun.objects.order_by("id").values("id", "kind", "status", "started_at", "finished_at")
    )
    statuses = sorted(run["status"] for run in runs)
    assert statuses == [RunStatus.SKIPPED, RunStatus.SUCCEEDED], runs
