"""Import pages: upload a real 1C-shaped file, check the preview, confirm, read the result."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from crm.importers.matching import OUT_OF_SCOPE
from crm.models import Client, ImportRun, ShipmentLine, WalletEstimate
from tests.crm.importers._files import INN_A, INN_B, INN_C, csv_cp1251, table_counts, xlsx
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CLIENTS = [
    ["Код", "Наименование", "ИНН", "КПП", "Регион", "Тип продаж", "Ответственный"],
    ["K-1", "ООО «Альфа»", INN_A, "770101001", "Москва", "стратегические", "anna@example.test"],
    ["K-2", "ООО «Бета»", INN_B, "", "Казань", "транзакционные", "boris@example.test"],
]
WALLETS = [
    ["Код контрагента", "ИНН", "Год", "Оборот", "Потенциал", "Номенклатурная группа", "Статус"],
    ["K-1", "", "2026", "120 000 000", "5 000 000", "", "черновик"],
    ["", INN_B, "2026", "", "1 500 000,50", "Крепёж", "проверено"],
]
SHIPMENTS = [
    [
        "Номер",
        "Дата",
        "Код контрагента",
        "Артикул",
        "Номенклатура",
        "Группа",
        "Количество",
        "Сумма",
    ],
    ["РН-1", "02.11.2026 0:00:00", "K-1", "A-1", "Болт", "Крепёж", "3,5", "1 234,50"],
    ["РН-1", "02.11.2026", "K-1", "B-2", "Гайка", "Крепёж", "-1", "-100"],
    ["РН-2", "03.11.2026", "K-2", "A-1", "Болт", "Крепёж", "1", "10"],
]
TITLE = ["Отчёт «Продажи» за ноябрь 2026", "Организация: ООО «Мы»"]


def as_csv(table: list[list[str]]) -> bytes:
    """A 1C export: a title and a filter line above the header, Windows-1251, semicolons."""
    return csv_cp1251(*TITLE, *(";".join(row) for row in table))


def as_xlsx(table: list[list[str]]) -> bytes:
    rows: list[list[object]] = [[title] for title in TITLE]
    rows += [list(row) for row in table]
    return xlsx(rows, title="Данные")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def two_clients(company, km_anna, km_boris):
    return (
        ClientFactory(external_id="K-1", inn=INN_A, kpp="770101001", owner=km_anna),
        ClientFactory(external_id="K-2", inn=INN_B, kpp="", owner=km_boris),
    )


def upload(http, kind: str, name: str, data: bytes, **options):
    file = SimpleUploadedFile(name, data)
    return http.post(reverse("crm:import_new"), {"kind": kind, "file": file, **options})


def test_clients_csv_preview_confirm_result(company, as_user, head_gleb, km_anna):
    http = as_user(head_gleb)
    assert "Imports" in http.get(reverse("home")).content.decode()  # in the menu
    response = upload(http, "clients", "Контрагенты.csv", as_csv(CLIENTS))
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("crm:import_run", args=[run.pk])
    assert run.status == ImportRun.Status.PENDING and not Client.objects.exists()

    page = http.get(response["Location"]).content.decode()
    for fact in ("Windows-1251", "semicolon", "CSV", "<dd>3</dd>", "Rows above the header"):
        assert fact in page, fact
    assert "Rows above the header were skipped: 1, 2." in page
    assert 'Код</td><td class="mono">external_id' in page  # file header → field
    assert "ООО «Альфа»" in page and "770101001" in page  # the first rows
    assert reverse("crm:import_confirm", args=[run.pk]) in page

    response = http.post(reverse("crm:import_confirm", args=[run.pk]))
    assert response["Location"] == reverse("crm:import_run", args=[run.pk])
    result = http.get(response["Location"]).content.decode()
    assert "The file was imported." in result
    run.refresh_from_db()
    assert (run.status, run.rows_read, run.created, run.updated) == ("succeeded", 2, 2, 0)
    assert Client.objects.get(external_id="K-1").owner == km_anna
    assert Client.objects.get(external_id="K-2").region == "Казань"


@pytest.mark.parametrize("make", [as_csv, as_xlsx], ids=["csv", "xlsx"])
def test_wallet_estimates_through_the_pages(two_clients, as_user, head_gleb, make):
    http = as_user(head_gleb)
    name = "potential.csv" if make is as_csv else "potential.xlsx"
    response = upload(http, "wallet_estimates", name, make(WALLETS))
    preview = http.get(response["Location"])
    assert preview.context["preview"].header_row == 3
    assert "1 500 000,50" in preview.content.decode()
    run = ImportRun.objects.get()
    http.post(reverse("crm:import_confirm", args=[run.pk]))
    result = http.get(reverse("crm:import_run", args=[run.pk])).content.decode()
    assert "<dt>Created</dt><dd>3</dd>" in result
    alpha, beta = two_clients
    assert WalletEstimate.objects.filter(client=alpha).count() == 2  # turnover and wallet
    verified = WalletEstimate.objects.get(client=beta)
    assert (verified.amount, verified.status) == (Decimal("1500000.50"), "verified")


@pytest.mark.parametrize("make", [as_csv, as_xlsx], ids=["csv", "xlsx"])
def test_shipments_through_the_pages_count_documents(two_clients, as_user, head_gleb, make):
    http = as_user(head_gleb)
    name = "sales.csv" if make is as_csv else "sales.xlsx"
    response = upload(http, "shipments", name, make(SHIPMENTS))
    page = http.get(response["Location"]).content.decode()
    assert ("Данные" in page) == (make is as_xlsx)  # the sheet, for a workbook
    run = ImportRun.objects.get()
    http.post(reverse("crm:import_confirm", args=[run.pk]))
    result = http.get(reverse("crm:import_run", args=[run.pk])).content.decode()
    assert "<dt>Rows read</dt><dd>3</dd>" in result
    assert "<dt>Documents created</dt><dd>2</dd>" in result
    assert "counted as documents" in result
    lines = ShipmentLine.objects.filter(doc_number="РН-1", doc_date=date(2026, 11, 2))
    assert sorted(lines.values_list("amount", flat=True)) == [Decimal("-100"), Decimal("1234.50")]
    assert ShipmentLine.objects.filter(client=two_clients[1]).count() == 1


def test_the_same_file_again_changes_nothing(two_clients, as_user, head_gleb):
    http = as_user(head_gleb)
    for attempt in range(2):
        upload(http, "shipments", "sales.csv", as_csv(SHIPMENTS))
        run = ImportRun.objects.latest("id")
        http.post(reverse("crm:import_confirm", args=[run.pk]))
        if attempt == 0:
            before = table_counts()
    run.refresh_from_db()
    assert (run.status, run.created, run.updated, run.unchanged) == ("succeeded", 0, 0, 2)
    assert table_counts() == before
    page = http.get(reverse("crm:import_run", args=[run.pk])).content.decode()
    assert "<dt>Documents unchanged</dt><dd>2</dd>" in page


def test_a_client_outside_the_heads_teams_is_refused(two_clients, as_user, head_gleb, outsider):
    ClientFactory(external_id="X-9", inn=INN_C, owner=outsider)
    rows = [*SHIPMENTS[:2], ["РН-9", "05.11.2026", "X-9", "A-1", "Болт", "Крепёж", "1", "5"]]
    http = as_user(head_gleb)
    upload(http, "shipments", "sales.csv", as_csv(rows))
    run = ImportRun.objects.get()
    before = table_counts()
    http.post(reverse("crm:import_confirm", args=[run.pk]))
    page = http.get(reverse("crm:import_run", args=[run.pk])).content.decode()
    assert escape(str(OUT_OF_SCOPE)) in page
    assert '<td class="num">5</td><td>Код контрагента</td>' in page
    assert table_counts() == before


def test_cancel_drops_the_upload(company, as_user, head_gleb):
    http = as_user(head_gleb)
    upload(http, "clients", "c.csv", as_csv(CLIENTS))
    run = ImportRun.objects.get()
    response = http.post(reverse("crm:import_cancel", args=[run.pk]), follow=True)
    assert "Import cancelled; nothing was written." in response.content.decode()
    run.refresh_from_db()
    assert run.status == "rejected" and not run.stored_file
    assert http.post(reverse("crm:import_confirm", args=[run.pk])).status_code == 302
    assert not Client.objects.exists()


def test_list_shows_runs_newest_first_in_bounded_queries(
    company, as_user, head_gleb, head_vera, django_assert_max_num_queries
):
    http = as_user(head_gleb)
    for number in range(3):
        upload(http, "clients", f"c{number}.csv", as_csv(CLIENTS))
    ImportRun.objects.create(kind="clients", file_name="vera.csv", started_by=head_vera)
    with django_assert_max_num_queries(6):
        page = http.get(reverse("crm:import_list"))
    names = [run.file_name for run, _duration in page.context["rows"]]
    assert names == ["c2.csv", "c1.csv", "c0.csv"]  # only Gleb's own runs
    for number in range(3, 12):
        ImportRun.objects.create(kind="clients", file_name=f"c{number}.csv", started_by=head_gleb)
    with django_assert_max_num_queries(6):
        assert len(http.get(reverse("crm:import_list")).context["rows"]) == 12


def test_run_pages_take_bounded_queries(company, as_user, head_gleb, django_assert_max_num_queries):
    http = as_user(head_gleb)
    upload(http, "clients", "c.csv", as_csv(CLIENTS))
    run = ImportRun.objects.get()
    with django_assert_max_num_queries(6):
        assert http.get(reverse("crm:import_run", args=[run.pk])).status_code == 200
    run.status, run.errors = (
        "rejected",
        [{"row": n, "column": "ИНН", "value": "1", "message": "Bad"} for n in range(500)],
    )
    run.save()
    with django_assert_max_num_queries(6):
        page = http.get(reverse("crm:import_run", args=[run.pk]))
    assert len(page.context["errors"]) == 200
    assert "300 more problems are in the error report." in page.content.decode()
