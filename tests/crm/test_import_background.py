"""Large imports run as a background job; the run page shows a progress bar until done."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.importers.progress import Reporter
from crm.models import Client, ImportRun
from tests.crm.importers._files import csv_cp1251

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_progress_of_earlier_tests():
    # Run ids repeat between tests (rolled back), the cache does not.
    cache.clear()


@pytest.fixture
def http(company, as_user, head_gleb):
    return as_user(head_gleb)


def test_a_large_file_is_queued_then_imported_by_the_task(
    http, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_MIN_BYTES = 10
    data = csv_cp1251("Код;Наименование", "B-1;ООО «Фон»", "B-2;ООО «Задача»")
    file = SimpleUploadedFile("big.csv", data)
    http.post(reverse("crm:import_new"), {"kind": "clients", "file": file})
    run = ImportRun.objects.get()
    with django_capture_on_commit_callbacks() as callbacks:
        response = http.post(reverse("crm:import_confirm", args=[run.pk]), follow=True)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.QUEUED and not Client.objects.exists()
    page = response.content.decode()
    assert "The import runs in the background" in page
    assert f'hx-get="{reverse("crm:import_progress", args=[run.pk])}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "Waiting for a worker" in page
    assert f'href="{reverse("crm:import_run", args=[run.pk])}">Refresh</a>' in page  # no JS

    assert len(callbacks) == 1
    callbacks[0]()  # the task, eager in tests, as the commit would send it
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportRun.Status.SUCCEEDED, 2)
    assert Client.objects.filter(external_id__in=["B-1", "B-2"]).count() == 2
    done = http.get(reverse("crm:import_progress", args=[run.pk]), **HTMX)
    assert done.status_code == 200
    assert done["HX-Redirect"] == reverse("crm:import_run", args=[run.pk])
    plain = http.get(reverse("crm:import_progress", args=[run.pk]))
    assert plain.status_code == 302 and plain["Location"] == reverse(
        "crm:import_run", args=[run.pk]
    )


def test_a_small_file_is_imported_at_once(http, settings):
    settings.IMPORT_BACKGROUND_MIN_BYTES = 10_000
    file = SimpleUploadedFile("small.csv", csv_cp1251("Код;Наименование", "S-1;ООО «Малый»"))
    http.post(reverse("crm:import_new"), {"kind": "clients", "file": file})
    run = ImportRun.objects.get()
    http.post(reverse("crm:import_confirm", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED


def test_the_bar_shows_the_phase_and_rows_of_a_running_import(http, head_gleb):
    run = ImportRun.objects.create(
        kind="shipments", status=ImportRun.Status.RUNNING, file_name="s.csv", started_by=head_gleb
    )
    url = reverse("crm:import_progress", args=[run.pk])
    starting = http.get(url, **HTMX).content.decode()
    assert "Starting" in starting and '<progress max="100"></progress>' in starting

    Reporter(run.pk).report("writing", 4000, 0.4, force=True)
    bar = http.get(url, **HTMX)
    assert bar.status_code == 200 and "HX-Redirect" not in bar
    text = bar.content.decode()
    assert 'id="import-progress"' in text and 'hx-trigger="every 1s"' in text
    assert "Writing to the database" in text and "4000 rows so far" in text
    assert 'value="40"' in text
    page = http.get(reverse("crm:import_run", args=[run.pk])).content.decode()
    assert "Writing to the database" in page and "Confirm" not in page
