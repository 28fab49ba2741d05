"""Tasks through a real Celery worker on the real Redis broker.

Runs when the suite has Redis and PostgreSQL (as `make test` and CI do). The
worker is a separate process that reads the test database, so the test
uses committed data (transactional_db).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from tests.workers import start_worker, stop_worker

needs_services = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs the real Redis and PostgreSQL that `make test` starts",
)


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):  # type: ignore[no-untyped-def]
    from config.celery import app

    mail_dir = tmp_path / "mail"
    process = start_worker(
        tmp_path,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    app.conf.task_always_eager = False
    try:
        yield mail_dir
    finally:
        app.conf.task_always_eager = True
        stop_worker(process)


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
