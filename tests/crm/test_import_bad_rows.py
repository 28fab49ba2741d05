"""Skip-invalid imports: the valid rows go in, the bad ones come back as a file to fix."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import ImportRun, ShipmentLine
from tests.crm.importers._files import INN_A, csv_cp1251
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

HEADER = "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма"
GOOD = "РН-1;02.11.2026;K-1;A-1;Крепёж;1;100"
BAD_DATE = "РН-2;32.11.2026;K-1;=A-1;Крепёж;2;200"
BAD_CLIENT = "РН-3;03.11.2026;NOPE;A-1;Крепёж;3;300"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def http(company, as_user, head_gleb, km_anna):
    ClientFactory(external_id="K-1", inn=INN_A, owner=km_anna)
    return as_user(head_gleb)


def import_file(http, name: str, data: bytes, **options) -> ImportRun:
    file = SimpleUploadedFile(name, data)
    http.post(reverse("crm:import_new"), {"kind": "shipments", "file": file, **options})
    run = ImportRun.objects.latest("id")
    http.post(reverse("crm:import_confirm", args=[run.pk]))
    run.refresh_from_db()
    return run


def download(http, name: str, run: ImportRun) -> tuple[str, str]:
    response = http.get(reverse(name, args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")  # so that Excel reads it as UTF-8
    return text[1:], response["Content-Disposition"]


def test_valid_rows_are_written_and_the_bad_ones_given_back(http):
    data = csv_cp1251("Продажи за ноябрь", HEADER, GOOD, BAD_DATE, BAD_CLIENT)
    run = import_file(http, "sales.csv", data, skip_invalid="on")
    assert (run.status, run.rows_read, run.rejected, run.created) == ("partial", 3, 2, 1)
    assert list(ShipmentLine.objects.values_list("doc_number", flat=True)) == ["РН-1"]

    page = http.get(reverse("crm:import_run", args=[run.pk])).content.decode()
    assert "The valid rows were imported and the bad ones left out" in page
    assert reverse("crm:import_bad_rows", args=[run.pk]) in page

    errors, disposition = download(http, "crm:import_errors", run)
    assert 'filename="sales-errors.csv"' in disposition
    rows = list(csv.reader(io.StringIO(errors), delimiter=";"))
    assert rows[0] == ["Row", "Column", "Value", "Problem"]
    assert [row[:2] for row in rows[1:]] == [["4", "Дата"], ["5", "Код контрагента"]]

    bad, _disposition = download(http, "crm:import_bad_rows", run)
    rows = list(csv.reader(io.StringIO(bad), delimiter=";"))
    assert rows[0] == [*HEADER.split(";"), "Problems"]
    assert rows[1][:3] + rows[1][4:7] == ["РН-2", "32.11.2026", "K-1", "Крепёж", "2", "200"]
    assert rows[1][3] == "'=A-1"  # a formula is not run by the spreadsheet
    assert rows[1][7] == "Дата: There is no such date."
    assert rows[2][2] == "NOPE" and rows[2][7] == "Код контрагента: No client has this code or INN."

    fixed = bad.replace("32.11.2026", "30.11.2026").replace("'=A-1", "A-2")
    fixed = fixed.replace("NOPE", "K-1").encode("utf-8-sig")
    again = import_file(http, "sales-fixed.csv", fixed)
    assert (again.status, again.created, again.rejected) == ("succeeded", 2, 0)
    assert "Unknown columns were ignored: «Problems»." in again.notes
    assert sorted(ShipmentLine.objects.values_list("doc_number", flat=True)) == [
        "РН-1",
        "РН-2",
        "РН-3",
    ]


def test_no_bad_rows_file_without_row_errors(http):
    run = import_file(http, "sales.csv", csv_cp1251(HEADER, GOOD), skip_invalid="on")
    assert run.status == "succeeded"
    assert http.get(reverse("crm:import_bad_rows", args=[run.pk])).status_code == 404
    page = http.get(reverse("crm:import_run", args=[run.pk])).content.decode()
    assert reverse("crm:import_bad_rows", args=[run.pk]) not in page
    assert reverse("crm:import_errors", args=[run.pk]) not in page


def test_without_skip_invalid_one_bad_row_rejects_all(http):
    run = import_file(http, "sales.csv", csv_cp1251(HEADER, GOOD, BAD_CLIENT))
    assert (run.status, run.rejected, run.created) == ("rejected", 1, 0)
    assert not ShipmentLine.objects.exists()
    bad, _disposition = download(http, "crm:import_bad_rows", run)
    assert len(bad.strip().splitlines()) == 2  # the header and the one bad row
