"""Bad files through the import pages: each is refused with its message and writes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from crm.models import Client, ImportRun, ShipmentLine, WalletEstimate
from tests.crm.importers._files import INN_A, csv_cp1251, table_counts
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CLIENTS_HEADER = "Код;Наименование;ИНН;КПП"
SHIPMENTS_HEADER = "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма"
WALLETS_HEADER = "Код контрагента;ИНН;Год;Потенциал"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def head(company, head_gleb, km_anna):
    ClientFactory(external_id="K-1", inn=INN_A, owner=km_anna)
    return head_gleb


def upload(http, kind: str, name: str, data: bytes, **options):
    file = SimpleUploadedFile(name, data)
    return http.post(reverse("crm:import_new"), {"kind": kind, "file": file, **options})


def counts() -> tuple[int, int, int]:
    return Client.objects.count(), ShipmentLine.objects.count(), WalletEstimate.objects.count()


# A file the reader cannot take is closed as rejected at once: there is nothing to confirm.
FILE_REFUSALS = [
    (
        "clients",
        "data.csv",
        bytes(range(0x80, 0x98)) * 200,
        "The text encoding of «data.csv» was not recognised: "
        "save the file as CSV in UTF-8 or Windows-1251.",
    ),
    (
        "clients",
        "koi8.csv",
        f"{CLIENTS_HEADER}\r\nK-5;ООО Север;;\r\n".encode("koi8-r"),
        "No header row with the required columns was found in the first 10 rows. "
        "Missing columns: «external_id», «name».",
    ),
    (
        "clients",
        "c.csv",
        csv_cp1251("Код;ИНН;Регион", "K-5;;Москва"),
        "Missing columns: «name». Columns found: «Код», «ИНН», «Регион».",
    ),
    ("clients", "clients.csv", b"", "The file «clients.csv» is empty."),
    (
        "clients",
        "photo.png",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "The file «photo.png» is an image, not a table: upload a .csv or .xlsx file.",
    ),
    (
        "shipments",
        "report.pdf",
        b"%PDF-1.7 some pages",
        "The file «report.pdf» is a PDF document, not a table: upload a .csv or .xlsx file.",
    ),
    (
        "wallet_estimates",
        "old.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
        "The file «old.xls» is in the old Excel format (.xls): "
        "save it as .xlsx or CSV and upload it again.",
    ),
]


@pytest.mark.parametrize(("kind", "name", "data", "message"), FILE_REFUSALS)
def test_unreadable_files_are_refused_with_a_reason(head, as_user, kind, name, data, message):
    http = as_user(head)
    before = table_counts()
    response = upload(http, kind, name, data)
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("crm:import_run", args=[run.pk])
    assert run.status == ImportRun.Status.REJECTED and not run.stored_file
    page = http.get(response["Location"]).content.decode()
    assert escape(message) in page
    assert "Nothing was imported" in page
    assert reverse("crm:import_confirm", args=[run.pk]) not in page
    assert http.post(reverse("crm:import_confirm", args=[run.pk])).status_code == 302
    assert table_counts() == before


# A readable file with bad rows is previewed, confirmed, and rejected as a whole.
ROW_REFUSALS = [
    (
        "clients",
        [CLIENTS_HEADER, "K-5;ООО «Север»;7707083894;"],
        (2, "ИНН", "7707083894", "This INN has a wrong check digit: please check it for a typo."),
    ),
    (
        "shipments",
        [SHIPMENTS_HEADER, "РН-1;02.11.2026;NOPE;A-1;Крепёж;1;100"],
        (2, "Код контрагента", "NOPE", "No client has this code or INN."),
    ),
    (
        "shipments",
        [SHIPMENTS_HEADER, "РН-1;31.02.2026;K-1;A-1;Крепёж;1;100"],
        (2, "Дата", "31.02.2026", "There is no such date."),
    ),
    (
        "shipments",
        [SHIPMENTS_HEADER, "РН-1;02/11/26;K-1;A-1;Крепёж;1;100"],
        (2, "Дата", "02/11/26", "A date such as 31.12.2026 or 2026-12-31 is expected."),
    ),
    (
        "shipments",
        [SHIPMENTS_HEADER, "РН-1;02.11.2026;K-1;A-1;Крепёж;три;100"],
        (2, "Количество", "три", "This is not a number."),
    ),
    (
        "wallet_estimates",
        [WALLETS_HEADER, "K-1;;2026;много"],
        (2, "Потенциал", "много", "This is not a number."),
    ),
    (
        "clients",
        [CLIENTS_HEADER, "K-5;ООО «Север»;;", "K-5;ООО «Юг»;;"],
        (3, "Код", "K-5", "This code already appears on row 2."),
    ),
]


@pytest.mark.parametrize(("kind", "lines", "error"), ROW_REFUSALS)
def test_bad_rows_reject_the_file_and_are_listed(head, as_user, kind, lines, error):
    http = as_user(head)
    upload(http, kind, "erp.csv", csv_cp1251(*lines))
    run = ImportRun.objects.get()
    assert http.get(reverse("crm:import_run", args=[run.pk])).context["preview"].error == ""
    before, database = table_counts(), counts()
    http.post(reverse("crm:import_confirm", args=[run.pk]))
    page = http.get(reverse("crm:import_run", args=[run.pk]))
    row, column, value, message = error
    assert page.context["run"].status == ImportRun.Status.REJECTED
    assert (row, column, value, message) in [
        (e["row"], e["column"], e["value"], e["message"]) for e in page.context["errors"]
    ]
    assert escape(message) in page.content.decode()
    assert table_counts() == before and counts() == database


def test_header_on_the_third_row_is_found_and_the_rows_above_named(head, as_user):
    data = csv_cp1251("Карточки контрагентов", "Период: 2026 г.", CLIENTS_HEADER, "K-5;Север;;")
    http = as_user(head)
    response = upload(http, "clients", "c.csv", data)
    page = http.get(response["Location"])
    assert page.context["preview"].header_row == 3
    assert "Rows above the header were skipped: 1, 2." in page.content.decode()
    http.post(reverse("crm:import_confirm", args=[page.context["run"].pk]))
    assert Client.objects.filter(external_id="K-5", name="Север").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "file", "This field is required."),
        ({"kind": "invoices"}, "kind", "Select a valid choice. invoices is not one of"),
        ({"sheet": "x" * 201}, "sheet", "Ensure this value has at most 200 characters"),
    ],
)
def test_bad_form_input_is_a_message_on_the_field(head, as_user, data, field, message):
    post = {
        "kind": "clients",
        "file": SimpleUploadedFile("c.csv", "Код;Наименование\n1;A\n".encode()),
    }
    post.update(data)
    if field == "file":
        del post["file"]
    response = as_user(head).post(reverse("crm:import_new"), post)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert 'class="field has-error"' in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_file_over_the_upload_limit_is_refused(head, as_user, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 3 * 1024 * 1024
    data = ("Код;Наименование\n" + "K-1;" + "x" * (7 * 512 * 1024) + "\n").encode()
    response = upload(as_user(head), "clients", "big.csv", data)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is 3.5\xa0MB; the largest file accepted is 3.0\xa0MB: "
        "split it or ask an administrator to import it."
    ]
    assert not ImportRun.objects.exists()
