"""A worker killed in the middle of an import: nothing half-written, and the import completes.

Real parts: the test PostgreSQL, Redis and two Celery worker processes. The
first worker is killed (SIGKILL, as a crash or the OOM killer would) while
it writes the lines; its transaction never commits. The task was
acknowledged late, so the broker hands it to the next worker, which starts
the import again from the beginning.
"""

from __future__ import annotations

import signal
import time

import pytest
from django.core.files import File

from crm.importers import jobs
from crm.importers.progress import WRITING, progress_of
from crm.models import Client, ImportRun, ShipmentLine
from tests.bench.shipments_file import write_shipments_csv
from tests.factories import inn_with_checksum
from tests.workers import needs_services, start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.services, needs_services]

LINES = 150_000


def test_a_killed_worker_leaves_nothing_and_the_import_completes(
    transactional_db, tmp_path, settings, admin_olga
):
    from config.celery import app

    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.IMPORT_BACKGROUND_MIN_BYTES = 1
    keys = [(f"K{i:04d}", inn_with_checksum(f"77{i:07d}"), f"ООО «Клиент {i}»") for i in range(300)]
    Client.objects.bulk_create(
        [Client(external_id=k, inn=inn, name=n, owner=admin_olga) for k, inn, n in keys]
    )
    path = tmp_path / "sales.csv"
    write_shipments_csv(path, lines=LINES, clients=keys)
    app.conf.task_always_eager = False
    first = start_worker(tmp_path, "first", MEDIA_ROOT=str(media))
    second = None
    try:
        with path.open("rb") as handle:
            run = jobs.import_upload(
                kind="shipments", upload=File(handle, name="sales.csv"), user=admin_olga
            )
        jobs.import_confirm(run=run, user=admin_olga)

        def writing() -> bool:
            state = progress_of(run.pk) or {}
            if state.get("phase") != WRITING or state.get("rows") != LINES:
                return False
            run.refresh_from_db()
            return run.status == ImportRun.Status.RUNNING

        wait_for(writing, 120, "the first worker to start writing", tmp_path)
        time.sleep(0.5)  # well inside the write: the old lines are being replaced
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        run.refresh_from_db()
        assert run.status == ImportRun.Status.RUNNING
        assert not ShipmentLine.objects.exists()  # nothing of the killed attempt is left

        # The next worker gets the unacknowledged task once its visibility ends.
        second = start_worker(
            tmp_path, "second", MEDIA_ROOT=str(media), CELERY_VISIBILITY_TIMEOUT="2"
        )

        def finished() -> bool:
            run.refresh_from_db()
            return run.is_finished

        wait_for(finished, 180, "the second worker to finish the import", tmp_path)
        assert run.status == ImportRun.Status.SUCCEEDED, run.errors
        assert ShipmentLine.objects.count() == LINES
        assert set(ShipmentLine.objects.values_list("import_run_id", flat=True)) == {run.pk}
        assert ImportRun.objects.count() == 1  # the same run, imported once
    finally:
        app.conf.task_always_eager = True
        for worker in (first, second):
            stop_worker(worker)
