"""A confirmed large upload is imported by a real Celery worker, and the page follows it.

Runs with the real Redis and PostgreSQL (scripts/test-services.sh, CI). The
worker is another process: it reads the committed run and the stored file
from the shared media directory, as in production.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from crm.models import Client, ImportRun
from tests.crm.importers._files import csv_cp1251
from tests.workers import start_worker, stop_worker

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs the real Redis and PostgreSQL that scripts/test-services.sh starts",
    ),
]


@pytest.fixture
def worker_media(transactional_db, tmp_path, settings):  # type: ignore[no-untyped-def]
    """A worker process sharing this test's database and media directory."""
    from config.celery import app

    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    process = start_worker(tmp_path, MEDIA_ROOT=str(media))
    app.conf.task_always_eager = False
    try:
        yield tmp_path
    finally:
        app.conf.task_always_eager = True
        stop_worker(process)


def test_the_worker_imports_and_the_progress_partial_sends_to_the_result(
    worker_media, company, as_user, head_gleb, settings
):
    settings.IMPORT_BACKGROUND_MIN_BYTES = 10
    rows = [f"W-{n:04d};ООО «Фоновый {n}»" for n in range(300)]
    file = SimpleUploadedFile("big.csv", csv_cp1251("Код;Наименование", *rows))
    http = as_user(head_gleb)
    http.post(reverse("crm:import_new"), {"kind": "clients", "file": file})
    run = ImportRun.objects.get()
    http.post(reverse("crm:import_confirm", args=[run.pk]))

    progress = reverse("crm:import_progress", args=[run.pk])
    deadline = time.monotonic() + 60
    response = http.get(progress, HTTP_HX_REQUEST="true")
    while "HX-Redirect" not in response and time.monotonic() < deadline:
        assert response.status_code == 200
        time.sleep(0.3)
        response = http.get(progress, HTTP_HX_REQUEST="true")
    assert "HX-Redirect" in response, (worker_media / "worker.log").read_text()
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportRun.Status.SUCCEEDED, 300)
    assert Client.objects.filter(external_id__startswith="W-").count() == 300
    page = http.get(response["HX-Redirect"]).content.decode()
    assert "The file was imported." in page
