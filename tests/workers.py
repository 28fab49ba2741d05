"""Real Celery worker processes for tests, on the test PostgreSQL and Redis.

A worker is another process: it sees only committed data, so tests using it
need ``transactional_db``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

needs_services = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs the real Redis and PostgreSQL that scripts/test-services.sh starts",
)


def task_queue() -> str:
    """The queue this test process sends to (see the conftest's ``_own_task_queue``)."""
    from config.celery import app

    return str(app.conf.task_default_queue)


def empty_task_queue() -> None:
    """Drop the tasks an earlier test of this process left in its queue.

    Queued after commit and never consumed (no worker was running), they would
    otherwise be the first thing this test's workers run, on this test's data.
    """
    from config.celery import app

    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(task_queue())


def start_worker(logs: Path, name: str = "worker", **env: str) -> subprocess.Popen:
    """A solo-pool worker on this test's database; its output goes to ``logs/name.log``."""
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["-Q", task_queue(), "-n", f"{name}@%h", "--loglevel=INFO"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    with (logs / f"{name}.log").open("w") as log:  # the child keeps its own handle
        return subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
        )


def stop_worker(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate: Callable[[], bool], seconds: float, what: str, logs: Path) -> None:
    """Poll until ``predicate`` holds; on time-out fail with the workers' logs."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            text = "\n".join(p.read_text()[-3000:] for p in sorted(logs.glob("*.log")))
            pytest.fail(f"timed out waiting for {what}\n{text}")
        time.sleep(0.2)
