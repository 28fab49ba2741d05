"""Who may use the import pages: heads their own runs, administrators every run, others none."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import Client, ImportRun
from tests.crm.importers._files import csv_cp1251

pytestmark = pytest.mark.django_db

RUN_PAGES = ("import_run", "import_progress", "import_errors", "import_bad_rows")
RUN_ACTIONS = ("import_confirm", "import_cancel")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def vera_run(company, as_user, head_vera) -> ImportRun:
    data = csv_cp1251("Код;Наименование", "V-1;ООО «Вера»")
    file = SimpleUploadedFile("vera.csv", data)
    as_user(head_vera).post(reverse("crm:import_new"), {"kind": "clients", "file": file})
    return ImportRun.objects.get()


def test_a_manager_is_refused_every_page(vera_run, as_user, km_anna):
    http = as_user(km_anna)
    assert "Imports" not in http.get(reverse("home")).content.decode()
    for name in ("import_list", "import_new"):
        assert http.get(reverse(f"crm:{name}")).status_code == 403, name
    file = SimpleUploadedFile("c.csv", b"external_id;name\r\n1;A\r\n")
    response = http.post(reverse("crm:import_new"), {"kind": "clients", "file": file})
    assert response.status_code == 403
    for name in RUN_PAGES:
        assert http.get(reverse(f"crm:{name}", args=[vera_run.pk])).status_code == 403, name
    for name in RUN_ACTIONS:
        assert http.post(reverse(f"crm:{name}", args=[vera_run.pk])).status_code == 403, name
    assert ImportRun.objects.count() == 1
    vera_run.refresh_from_db()
    assert vera_run.status == ImportRun.Status.PENDING


def test_another_heads_run_is_not_found(vera_run, as_user, head_gleb):
    http = as_user(head_gleb)
    assert http.get(reverse("crm:import_list")).context["rows"] == []
    for name in RUN_PAGES:
        assert http.get(reverse(f"crm:{name}", args=[vera_run.pk])).status_code == 404, name
    for name in RUN_ACTIONS:
        assert http.post(reverse(f"crm:{name}", args=[vera_run.pk])).status_code == 404, name
    vera_run.refresh_from_db()
    assert vera_run.status == ImportRun.Status.PENDING


def test_an_administrator_sees_every_run_and_only_the_uploader_confirms(
    vera_run, as_user, admin_olga, head_vera
):
    http = as_user(admin_olga)
    assert [run for run, _d in http.get(reverse("crm:import_list")).context["rows"]] == [vera_run]
    page = http.get(reverse("crm:import_run", args=[vera_run.pk])).content.decode()
    assert "Only the user who uploaded the file may confirm or cancel its import." in page
    assert reverse("crm:import_confirm", args=[vera_run.pk]) not in page
    for name in RUN_ACTIONS:
        assert http.post(reverse(f"crm:{name}", args=[vera_run.pk])).status_code == 403, name
    assert not Client.objects.exists()
    as_user(head_vera).post(reverse("crm:import_confirm", args=[vera_run.pk]))
    assert Client.objects.filter(external_id="V-1").exists()


def test_pages_ask_an_anonymous_visitor_to_log_in(vera_run, client):
    response = client.get(reverse("crm:import_run", args=[vera_run.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_confirm_and_cancel_need_a_post(vera_run, as_user, head_vera):
    http = as_user(head_vera)
    for name in RUN_ACTIONS:
        assert http.get(reverse(f"crm:{name}", args=[vera_run.pk])).status_code == 405, name
