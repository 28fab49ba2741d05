"""A worker killed in the middle of an import: nothing half-written, and the import completes.

Real parts: the test PostgreSQL, Redis and two Celery worker processes. The
first worker is killed (SIGKILL, as a crash or the OOM killer would) while
it writes the lines; its transaction never commits. The task was
acknowledged late, so the broker hands it to the next worker, which starts
the import again from the beginning.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files import File
from django.db import connection

from crm.importers import jobs
from crm.importers.progress import WRITING, progress_of
from crm.models import Client, ImportRun, ShipmentLine
from tests.bench.shipments_file import write_shipments_csv
from tests.factories import inn_with_checksum

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs the real Redis and PostgreSQL that scripts/test-services.sh starts",
    ),
]

LINES = 150_000


def _start_worker(tmp_path: Path, media: Path, name: str, **extra: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "MEDIA_ROOT": str(media),
        **extra,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "-n", f"{name}@%h"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    with (tmp_path / f"{name}.log").open("w") as log:  # the child keeps its own handle
        return subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
        )


def _wait_for(predicate, seconds: float, what: str, logs: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            text = "\n".join(p.read_text()[-3000:] for p in logs.glob("*.log"))
            pytest.fail(f"timed out waiting for {what}\n{text}")
        time.sleep(0.2)


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
    first = _start_worker(tmp_path, media, "first")
    second = None
    try:
        with path.open("rb") as handle:
            run = jobs.import_upload(
                kind="shipments", upload=File(handle, name="sales.csv"), user=admin_olga
            )
        jobs.import_confirm(run=run, user=admin_olga)

        def writing() -> bool:
            state = progress_of(run.pk) or {}
            return state.get("phase") == WRITING

        _wait_for(writing, 120, "the first worker to start writing", tmp_path)
        time.sleep(0.5)  # well inside the write: the old lines are being replaced
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        run.refresh_from_db()
        assert run.status == ImportRun.Status.RUNNING
        assert not ShipmentLine.objects.exists()  # nothing of the killed attempt is left

        # The next worker gets the unacknowledged task once its visibility ends.
        second = _start_worker(tmp_path, media, "second", CELERY_VISIBILITY_TIMEOUT="2")

        def finished() -> bool:
            run.refresh_from_db()
            return run.is_finished

        _wait_for(finished, 180, "the second worker to finish the import", tmp_path)
        assert run.status == ImportRun.Status.SUCCEEDED, run.errors
        assert ShipmentLine.objects.count() == LINES
        assert set(ShipmentLine.objects.values_list("import_run_id", flat=True)) == {run.pk}
        assert ImportRun.objects.count() == 1  # the same run, imported once
    finally:
        app.conf.task_always_eager = True
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
