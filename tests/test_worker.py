"""Tasks through a real Celery worker on the real Redis broker.

Runs when the suite has Redis and PostgreSQL (as `make test` and CI do). The
worker is a separate process that reads the test database, so the test
uses committed data (transactional_db).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from tests.workers import task_queue

needs_services = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs the real Redis and PostgreSQL that `make test` starts",
)


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):  # type: ignore[no-untyped-def]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            task_queue(),
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=settings.BASE_DIR,
    )
    from config.celery import app

    app.conf.task_always_eager = False
    try:
        yield tmp_path / "mail"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@needs_services
def test_password_reset_letter_is_sent_by_the_worker(celery_worker_process, client, km_anna):
    mail_dir: Path = celery_worker_process
    response = client.post(reverse("accounts:password_reset"), {"email": km_anna.email})
    assert response.status_code == 302
    deadline = time.monotonic() + 60
    letters: list[Path] = []
    while time.monotonic() < deadline and not letters:
        letters = list(mail_dir.glob("*.log")) if mail_dir.exists() else []
        time.sleep(0.2)
    assert letters, (mail_dir.parent / "worker.log").read_text()
    text = letters[0].read_text()
    assert f"To: {km_anna.email}" in text
    assert "/accounts/password/reset/" in text
